//! Router tests of the web app, without a browser: pages, form drafts signed the way the
//! signing script signs them, and hostile input (the browser story is in tests/cli/).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use commune_core::{CouncilId, EventId, Keypair};
use serde_json::Value;
use tokio_stream::StreamExt as _;
use tower::ServiceExt as _;

use crate::server::tests::{Fixture, call, event_count, fixture, send, session, submit};

const FORM: &str = "application/x-www-form-urlencoded";

/// Reads a page as the fixture's member, signed in.
async fn get(fixture: &Fixture, uri: &str) -> (StatusCode, String) {
    let request = Request::get(uri)
        .header("cookie", session(&fixture.node, &fixture.keypair))
        .body(Body::empty())
        .unwrap();
    send(&fixture.node, request).await
}

/// Reads a page signed in as `keypair`, or as nobody.
async fn get_as(fixture: &Fixture, keypair: Option<&Keypair>, uri: &str) -> (StatusCode, String) {
    let mut request = Request::get(uri);
    if let Some(keypair) = keypair {
        request = request.header("cookie", session(&fixture.node, keypair));
    }
    send(&fixture.node, request.body(Body::empty()).unwrap()).await
}

/// Posts a form as the signing script does (same origin, asking for JSON).
async fn post_form(fixture: &Fixture, uri: &str, form: &str) -> (StatusCode, Value) {
    let request = Request::post(uri)
        .header("content-type", FORM)
        .header("accept", "application/json")
        .header("host", "127.0.0.1:7878")
        .header("origin", "http://127.0.0.1:7878")
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(form.to_owned()))
        .unwrap();
    let (status, text) = send(&fixture.node, request).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Signs a draft and builds the event the way `sign.js` does.
fn sign_like_the_script(draft: &Value, keypair: &Keypair) -> Vec<u8> {
    let message = data_encoding::HEXLOWER
        .decode(draft["signing_message"].as_str().unwrap().as_bytes())
        .unwrap();
    assert_eq!(&message[..17], b"commune/event/v1\0");
    assert_eq!(message[17], 0x8a);
    let event = super::assemble_event(&message, &keypair.sign(&message));
    // The script's bytes are the event the core itself would sign.
    let decoded = commune_core::Event::decode_verified(&event).unwrap();
    assert_eq!(decoded.unsigned.signing_message(), message);
    event
}

/// Drafts an act through a page's form, signs it, submits it; returns the page to go to.
async fn act(fixture: &Fixture, keypair: &Keypair, uri: &str, form: &str) -> String {
    let form = format!("{form}&author={}", keypair.public());
    let (status, draft) = post_form(fixture, uri, &form).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {draft}");
    let (status, done) = submit(&fixture.node, &sign_like_the_script(&draft, keypair)).await;
    assert_eq!(status, StatusCode::CREATED, "{uri}: {done}");
    draft["next"]
        .as_str()
        .unwrap()
        .replace("{event}", done["event"].as_str().unwrap())
        .replace("{council}", done["council"].as_str().unwrap())
}

async fn open_proposal(fixture: &Fixture, form: &str) -> String {
    act(
        fixture,
        &fixture.keypair,
        &format!("/c/{}/proposals", fixture.council),
        form,
    )
    .await
}

#[tokio::test]
async fn a_council_is_run_through_its_pages() {
    let fixture = fixture();
    let council = fixture.council;
    let (status, home) = get(&fixture, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("Mutual aid"), "{home}");

    let page = open_proposal(
        &fixture,
        "title=Which+day+for+the+market%3F&text=We+need+a+day.&method=approval\
         &options=Saturday%0D%0ASunday%0D%0AWednesday&winners=1&open_for=24",
    )
    .await;
    assert!(page.starts_with(&format!("/c/{council}/p/")), "{page}");
    // Someone not signed in learns the council's name, not its proposals.
    let (status, html) = get_as(&fixture, None, &page).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        html.contains("Mutual aid is read by its members only"),
        "{html}"
    );
    assert!(!html.contains("Which day for the market?"), "{html}");
    assert!(
        !html.contains("<form"),
        "no forms for an unknown reader: {html}"
    );
    let as_member = |uri: &str| {
        let request = Request::get(uri)
            .header("cookie", session(&fixture.node, &fixture.keypair))
            .body(Body::empty())
            .unwrap();
        send(&fixture.node, request)
    };
    let (_, html) = as_member(&page).await;
    assert!(html.contains(r#"name="approve" value="2""#), "{html}");

    // Approval ballots carry every checked option.
    act(
        &fixture,
        &fixture.keypair,
        &format!("{page}/ballot"),
        "approve=2&approve=0",
    )
    .await;
    act(
        &fixture,
        &fixture.keypair,
        &format!("{page}/comment"),
        "text=Saturday+suits+the+farmers.",
    )
    .await;
    let (_, html) = get(&fixture, &page).await;
    assert!(html.contains("Saturday suits the farmers."));
    assert!(html.contains("Who voted (1 of 1)"), "{html}");

    // The viewer's own ballot shows when the page knows who is looking.
    let (_, html) = as_member(&page).await;
    assert!(
        html.contains("Your ballot: <strong>approves Saturday, Wednesday</strong>"),
        "{html}"
    );

    act(&fixture, &fixture.keypair, &format!("{page}/close"), "").await;
    let (_, html) = get(&fixture, &page).await;
    assert!(html.contains("Result: passed: chose"), "{html}");
    assert!(html.contains("How this was counted"));
    let (status, html) = get(&fixture, &format!("/c/{council}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Decided") && html.contains("Which day for the market?"));
    let (status, html) = get(&fixture, &format!("/c/{council}/new")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("How should the council decide?"));
}

#[tokio::test]
async fn a_council_is_founded_and_joined_by_invitation_from_forms() {
    let fixture = fixture();
    let founder = Keypair::from_seed([3; 32]);
    let page = act(
        &fixture,
        &founder,
        "/found",
        "name=Tenants+of+No.+9&your_name=Rosa",
    )
    .await;
    let council: CouncilId = page.strip_prefix("/c/").unwrap().parse().unwrap();
    let (_, html) = get_as(&fixture, Some(&founder), &page).await;
    assert!(html.contains("Tenants of No. 9") && html.contains("Rosa"));

    // Rosa's browser signs an invitation; the node checks and prints it.
    let (status, draft) = post_form(
        &fixture,
        &format!("/c/{council}/invitations"),
        &format!("author={}", founder.public()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    let message = data_encoding::HEXLOWER
        .decode(draft["signing_message"].as_str().unwrap().as_bytes())
        .unwrap();
    let mut invitation = draft["invitation"].clone();
    invitation["signature"] = data_encoding::HEXLOWER
        .encode(&Keypair::from_seed([4; 32]).sign(&message).0)
        .into();
    let seal = |invitation: &Value| {
        Body::from(serde_json::json!({ "invitation": invitation }).to_string())
    };
    let (status, refused) = call(&fixture.node, "POST", "/invitations", seal(&invitation)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    invitation["signature"] = data_encoding::HEXLOWER
        .encode(&founder.sign(&message).0)
        .into();
    let (status, sealed) = call(&fixture.node, "POST", "/invitations", seal(&invitation)).await;
    assert_eq!(status, StatusCode::OK, "{sealed}");
    let link = sealed["link"].as_str().unwrap();
    let (status, html) = get(&fixture, link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Join Tenants of No. 9") && html.contains("Rosa invites you"));

    let newcomer = Keypair::from_seed([5; 32]);
    let text = sealed["text"].as_str().unwrap();
    act(
        &fixture,
        &newcomer,
        "/join",
        &format!("invitation={text}&name=Idris"),
    )
    .await;
    let (_, html) = get_as(&fixture, Some(&founder), &page).await;
    assert!(
        html.contains("Members (2)") && html.contains("Idris"),
        "{html}"
    );

    // Once used, the invitation is spent: the fold refuses a second join with it.
    let (status, draft) = post_form(
        &fixture,
        "/join",
        &format!(
            "invitation={text}&name=Mallory&author={}",
            Keypair::from_seed([6; 32]).public()
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, refused) = submit(
        &fixture.node,
        &sign_like_the_script(&draft, &Keypair::from_seed([6; 32])),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
}

/// The node cannot be made to record a member's act without that member's signature.
#[tokio::test]
async fn acts_without_their_members_signature_are_refused_and_nothing_is_stored() {
    let fixture = fixture();
    let member = &fixture.keypair;
    let form = format!(
        "title=Spend+the+funds&method=majority&open_for=24&author={}",
        member.public()
    );
    let (_, draft) = post_form(
        &fixture,
        &format!("/c/{}/proposals", fixture.council),
        &form,
    )
    .await;
    let signed = sign_like_the_script(&draft, member);
    let before = event_count(&fixture);
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    // Signed by someone else, in the member's name.
    let message = data_encoding::HEXLOWER
        .decode(draft["signing_message"].as_str().unwrap().as_bytes())
        .unwrap();
    let forger = Keypair::from_seed([8; 32]);
    let forged = super::assemble_event(&message, &forger.sign(&message));
    cases.push(("another key's signature", forged));
    let at = signed.len() - 64;
    // No signature: zeros.
    let mut zeros = signed.clone();
    zeros[at..].fill(0);
    cases.push(("a zero signature", zeros));
    // No signature at all: the envelope without its last element.
    let mut missing = signed[..at - 2].to_vec();
    missing[0] = 0x8a;
    cases.push(("no signature field", missing));
    for (what, bytes) in cases {
        let (status, answer) = submit(&fixture.node, &bytes).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains("refused"),
            "{what}: {answer}"
        );
        assert_eq!(event_count(&fixture), before, "{what} wrote nothing");
    }
    let (status, _) = submit(&fixture.node, &signed).await;
    assert_eq!(status, StatusCode::CREATED);
    // The same signed act again: a clear conflict, and still one event.
    let (status, answer) = submit(&fixture.node, &signed).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("already recorded")
    );
    assert_eq!(event_count(&fixture), before + 1);
}

/// Two members sign drafts on the same heads: the first lands, the second is asked to draft
/// again (the signing script does so by itself) and nothing of it is stored.
#[tokio::test]
async fn an_act_signed_on_old_heads_is_sent_back_to_be_drafted_again() {
    let fixture = fixture();
    let uri = format!("/c/{}/proposals", fixture.council);
    let form = |title: &str| {
        format!(
            "title={title}&method=majority&author={}",
            fixture.keypair.public()
        )
    };
    let (_, first) = post_form(&fixture, &uri, &form("First")).await;
    let (_, second) = post_form(&fixture, &uri, &form("Second")).await;
    let (status, _) = submit(
        &fixture.node,
        &sign_like_the_script(&first, &fixture.keypair),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let before = event_count(&fixture);
    let (status, answer) = submit(
        &fixture.node,
        &sign_like_the_script(&second, &fixture.keypair),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["redraft"], true, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("draft it again"));
    assert_eq!(event_count(&fixture), before);
}

#[tokio::test]
async fn bad_form_posts_get_clear_client_errors_and_store_nothing() {
    let fixture = fixture();
    let council = fixture.council;
    let proposal = open_proposal(&fixture, "title=Paint+it&method=majority").await;
    let before = event_count(&fixture);
    let author = fixture.keypair.public();
    let cases = [
        // A form that says nothing a method understands.
        (
            format!("{proposal}/ballot"),
            format!("vote=maybe&author={author}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not a vote",
        ),
        (
            format!("/c/{council}/proposals"),
            format!("title=&author={author}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "fill in “Title”",
        ),
        (
            format!("/c/{council}/proposals"),
            format!("title=x&method=approval&options=one&author={author}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "at least two options",
        ),
        (
            format!("/c/{council}/proposals"),
            format!("title=x&open_for=99999999&author={author}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "between one hour and a year",
        ),
        (
            format!("/c/{council}/p/{}/ballot", EventId([9; 32])),
            format!("vote=yes&author={author}"),
            StatusCode::NOT_FOUND,
            "no proposal",
        ),
        (
            format!("/c/{}/proposals", CouncilId([9; 32])),
            format!("title=x&author={author}"),
            StatusCode::NOT_FOUND,
            "no council",
        ),
        (
            "/c/nonsense/proposals".to_owned(),
            format!("title=x&author={author}"),
            StatusCode::BAD_REQUEST,
            "not a council id",
        ),
        (
            format!("/c/{council}/proposals"),
            "title=x&author=me".to_owned(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not a public key",
        ),
        (
            "/join".to_owned(),
            format!("invitation=commune-invite-aaaa&name=x&author={author}"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "does not work",
        ),
    ];
    for (uri, form, expected, message) in cases {
        let (status, answer) = post_form(&fixture, &uri, &form).await;
        assert_eq!(status, expected, "{uri} {form}: {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(message),
            "{uri} {form}: {answer}"
        );
    }

    // Without the signing script there is no author: the page says what acting needs.
    let request = Request::post(format!("{proposal}/ballot"))
        .header("content-type", FORM)
        .body(Body::from("vote=yes"))
        .unwrap();
    let (status, html) = send(&fixture.node, request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("Signing needs JavaScript"), "{html}");

    // Not a form at all, and far too large a form.
    let request = Request::post(format!("{proposal}/comment"))
        .header("content-type", "application/json")
        .body(Body::from("{}"))
        .unwrap();
    let (status, _) = send(&fixture.node, request).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = format!("text={}&author={author}", "a".repeat(1 << 20));
    let (status, _) = post_form(&fixture, &format!("{proposal}/comment"), &huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(event_count(&fixture), before);
}

#[tokio::test]
async fn posts_from_another_site_are_refused() {
    let fixture = fixture();
    let author = fixture.keypair.public();
    let (_, draft) = post_form(
        &fixture,
        &format!("/c/{}/proposals", fixture.council),
        &format!("title=Sneaky&author={author}"),
    )
    .await;
    let signed = sign_like_the_script(&draft, &fixture.keypair);
    let before = event_count(&fixture);
    let hostile = [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ];
    for (name, value) in hostile {
        for (uri, content_type, body) in [
            (
                "/api/events".to_owned(),
                "application/json",
                serde_json::json!({ "event": data_encoding::HEXLOWER.encode(&signed) }).to_string(),
            ),
            (
                format!("/c/{}/proposals", fixture.council),
                FORM,
                format!("title=Sneaky&author={author}"),
            ),
        ] {
            let request = Request::post(&uri)
                .header("host", "127.0.0.1:7878")
                .header("content-type", content_type)
                .header(name, value)
                .body(Body::from(body))
                .unwrap();
            let (status, text) = send(&fixture.node, request).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{name}: {value} {uri}");
            assert!(text.contains("another site"), "{text}");
        }
    }
    assert_eq!(event_count(&fixture), before);
}

#[tokio::test]
async fn unknown_and_malformed_ids_get_pages_that_say_so() {
    let fixture = fixture();
    for (uri, status) in [
        (format!("/c/{}", CouncilId([1; 32])), StatusCode::NOT_FOUND),
        (
            format!("/c/{}/p/{}", fixture.council, EventId([1; 32])),
            StatusCode::NOT_FOUND,
        ),
        ("/c/xyz".to_owned(), StatusCode::BAD_REQUEST),
        (
            "/join?invitation=commune-invite-zz".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/c/{}/live", CouncilId([1; 32])),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (got, html) = get(&fixture, &uri).await;
        assert_eq!(got, status, "{uri}");
        assert!(!html.is_empty(), "{uri}: no message");
    }
    for uri in ["/keys", "/join", "/static/style.css", "/static/sign.js"] {
        let (status, _) = get(&fixture, uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
    }
    // Pages allow only this node's own script, and send no referrer.
    let response = crate::server::router(fixture.node.clone())
        .oneshot(Request::get("/keys").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(policy.contains("script-src 'self'") && policy.contains("default-src 'none'"));
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");
}

#[tokio::test]
async fn a_live_page_hears_of_each_new_event_in_its_council() {
    let fixture = fixture();
    let request = Request::get(format!("/c/{}/live", fixture.council))
        .header("cookie", session(&fixture.node, &fixture.keypair))
        .body(Body::empty())
        .unwrap();
    let response = crate::server::router(fixture.node.clone())
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "text/event-stream",
        "an event stream"
    );
    let mut stream = response.into_body().into_data_stream();
    open_proposal(&fixture, "title=Live&method=majority").await;
    let frame = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
        .await
        .expect("a change within 5 s")
        .unwrap()
        .unwrap();
    let frame = String::from_utf8_lossy(&frame).into_owned();
    assert!(
        frame.contains("event: change") && frame.contains(&fixture.council.to_string()),
        "{frame}"
    );
}

#[tokio::test]
async fn the_openapi_document_describes_every_json_route() {
    let fixture = fixture();
    let (status, document) = call(&fixture.node, "GET", "/api/openapi.json", Body::empty()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let paths = document["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/councils", "get"),
        ("/api/councils/{council}", "get"),
        ("/api/councils/{council}/proposals/{proposal}", "get"),
        ("/api/councils/{council}/rejections", "get"),
        ("/api/councils/{council}/drafts", "post"),
        ("/api/events", "post"),
    ] {
        assert!(paths[path][method].is_object(), "{method} {path} missing");
    }
    assert!(paths["/api/events"]["post"]["responses"]["409"].is_object());
}

#[tokio::test]
async fn a_long_discussion_comes_in_pages_latest_first() {
    let fixture = fixture();
    let page = open_proposal(&fixture, "title=Long+talk&method=majority").await;
    let proposal: EventId = page.rsplit('/').next().unwrap().parse().unwrap();
    {
        let mut node = fixture.node.lock().unwrap();
        for n in 1..=55 {
            let comment = commune_core::Payload::Comment(commune_core::payload::Comment {
                proposal,
                reply_to: None,
                text: format!("remark number {n}."),
            });
            node.act(&fixture.keypair, fixture.council, comment)
                .unwrap();
        }
    }
    let (_, latest) = get(&fixture, &page).await;
    assert!(latest.contains("Discussion (55)") && latest.contains("page 2 of 2"));
    assert!(latest.contains("remark number 55.") && !latest.contains("remark number 5."));
    assert!(
        latest.contains(&format!(r#"href="{page}?page=1""#)),
        "{latest}"
    );
    let (_, first) = get(&fixture, &format!("{page}?page=1")).await;
    assert!(first.contains("remark number 1.") && first.contains("remark number 50."));
    assert!(!first.contains("remark number 51."));
    let (status, _) = get(&fixture, &format!("{page}?page=99")).await;
    assert_eq!(status, StatusCode::OK, "a page past the end shows the last");
}

#[tokio::test]
async fn a_council_that_admits_by_vote_is_asked_and_decides_from_its_pages() {
    let fixture = fixture();
    let founder = Keypair::from_seed([11; 32]);
    let constitution = commune_core::constitution::Constitution {
        admission: commune_core::constitution::Admission::Vote,
        ..Default::default()
    };
    let council = fixture
        .node
        .lock()
        .unwrap()
        .found(&founder, "Bakery workers", "Amina", constitution)
        .unwrap()
        .council();
    let page = format!("/c/{council}");
    let newcomer = Keypair::from_seed([12; 32]);
    let viewed_by = |key: &Keypair| {
        let request = Request::get(&page)
            .header("cookie", session(&fixture.node, key))
            .body(Body::empty())
            .unwrap();
        send(&fixture.node, request)
    };
    let (_, html) = viewed_by(&newcomer).await;
    assert!(html.contains("Sign and ask to join"), "{html}");
    act(
        &fixture,
        &newcomer,
        "/join",
        &format!("council={council}&name=Farid"),
    )
    .await;
    let (_, html) = viewed_by(&founder).await;
    assert!(html.contains("Asking to join") && html.contains("Propose to admit"));

    // The form the page shows puts the admission to the council's own method (consent).
    let proposal = act(
        &fixture,
        &founder,
        &format!("/c/{council}/proposals"),
        &format!(
            "action=admit&member={}&title=Admit+Farid",
            newcomer.public()
        ),
    )
    .await;
    let (_, html) = get_as(&fixture, Some(&founder), &proposal).await;
    assert!(html.contains("Farid becomes a member.") && html.contains("consent"));
    act(
        &fixture,
        &founder,
        &format!("{proposal}/ballot"),
        "position=agree",
    )
    .await;
    act(&fixture, &founder, &format!("{proposal}/close"), "").await;
    let (_, html) = viewed_by(&founder).await;
    assert!(html.contains("Members (2)") && html.contains("Propose to remove Farid"));

    // A removal names its member, and may not pick its own method.
    let (status, refused) = post_form(
        &fixture,
        &format!("/c/{council}/proposals"),
        &format!(
            "action=remove&member={}&title=Remove&method=majority&author={}",
            newcomer.public(),
            founder.public()
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let removal = act(
        &fixture,
        &founder,
        &format!("/c/{council}/proposals"),
        &format!(
            "action=remove&member={}&title=Remove+Farid&open_for=72",
            newcomer.public()
        ),
    )
    .await;
    let (_, html) = get_as(&fixture, Some(&founder), &removal).await;
    assert!(
        html.contains("Farid is removed from the council.") && html.contains("removal question")
    );
    assert!(
        html.contains("at least one ballot, from at least 50.0% of the members"),
        "{html}"
    );
}

/// A long write holds the node; pages of a council the node has folded still answer, from
/// its latest fold.
#[tokio::test]
async fn pages_do_not_wait_for_a_write_in_progress() {
    let fixture = fixture();
    let page = open_proposal(&fixture, "title=Read+me&method=majority").await;
    let cookie = session(&fixture.node, &fixture.keypair);
    let app = crate::server::router(fixture.node.clone());
    let node = fixture.node.clone();
    let (held, holding) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let writer = std::thread::spawn(move || {
        let _node = node.lock().unwrap();
        held.send(()).unwrap();
        let _ = released.recv();
    });
    holding.recv().unwrap();
    let request = Request::get(&page)
        .header("cookie", cookie)
        .body(Body::empty())
        .unwrap();
    let answered =
        tokio::time::timeout(std::time::Duration::from_secs(5), app.oneshot(request)).await;
    release.send(()).unwrap();
    writer.join().unwrap();
    let response = answered.expect("the page answered while the node was held");
    assert_eq!(response.unwrap().status(), StatusCode::OK);
}

/// Ranked, score and time-poll proposals are opened, voted on and read through the pages.
#[tokio::test]
async fn ranked_score_and_time_poll_ballots_go_through_the_forms() {
    let fixture = fixture();
    let cases = [
        ("irv", "rank-0=2&rank-1=1&rank-2=", "Ben &gt; Ana"),
        (
            "schulze",
            "rank-0=1&rank-1=1&rank-2=2",
            "Ana = Ben &gt; Chloé",
        ),
        ("stv-meek", "rank-2=1&rank-0=2", "Chloé &gt; Ana"),
        (
            "score",
            "score-0=4&score-1=0&score-2=5",
            "Ana 4, Ben 0, Chloé 5",
        ),
        (
            "time-poll",
            "slot-0=yes&slot-1=maybe&slot-2=no",
            "Ana: yes, Ben: maybe, Chloé: no",
        ),
    ];
    for (method, ballot, shown) in cases {
        let page = open_proposal(
            &fixture,
            &format!(
                "title=Which&method={method}&options=Ana%0D%0ABen%0D%0AChlo%C3%A9&winners=1&max_score=5&open_for=24"
            ),
        )
        .await;
        act(
            &fixture,
            &fixture.keypair,
            &format!("{page}/ballot"),
            ballot,
        )
        .await;
        let request = Request::get(&page)
            .header("cookie", session(&fixture.node, &fixture.keypair))
            .body(Body::empty())
            .unwrap();
        let (status, html) = send(&fixture.node, request).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains(shown), "{method}: {html}");
    }
    // A rank that is not a number is refused with a message, and nothing is drafted.
    let page = open_proposal(
        &fixture,
        "title=Which&method=irv&options=Ana%0D%0ABen&open_for=24",
    )
    .await;
    let form = format!("rank-0=first&author={}", fixture.keypair.public());
    let (status, answer) = post_form(&fixture, &format!("{page}/ballot"), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("not a rank"),
        "{answer}"
    );
}

/// A council of two on the fixture's node: Amina founds it, Farid joins by invitation.
fn council_of_two(fixture: &Fixture, name: &str) -> (CouncilId, Keypair, Keypair) {
    use commune_core::payload::{self, Payload};
    let amina = Keypair::from_seed([21; 32]);
    let farid = Keypair::from_seed([22; 32]);
    let council = fixture
        .node
        .lock()
        .unwrap()
        .found(&amina, name, "Amina", Default::default())
        .unwrap()
        .council();
    let invitation = commune_core::invite::Invitation::new(
        council,
        name.into(),
        &amina,
        [1; 16],
        crate::node::now_ms() + 60_000,
    );
    act_as(
        fixture,
        council,
        &farid,
        Payload::Join(payload::Join {
            name: "Farid".into(),
            invitation: Some(invitation),
        }),
    );
    (council, amina, farid)
}

fn act_as(
    fixture: &Fixture,
    council: CouncilId,
    who: &Keypair,
    payload: commune_core::Payload,
) -> EventId {
    fixture
        .node
        .lock()
        .unwrap()
        .act(who, council, payload)
        .unwrap()
        .id
}

/// `voters[0]` proposes `action` (an election's options are Amina and Farid), everyone in
/// `voters` casts `choice`, and the proposer closes it.
fn decide(
    fixture: &Fixture,
    council: CouncilId,
    voters: [&Keypair; 2],
    action: commune_core::payload::Action,
    method: Option<commune_core::tally::Method>,
    choice: commune_core::tally::Choice,
) -> EventId {
    use commune_core::payload::{self, Action, Payload};
    let proposal = act_as(
        fixture,
        council,
        voters[0],
        Payload::Propose(payload::Propose {
            title: "Decide".into(),
            text: String::new(),
            options: match &action {
                Action::Elect { .. } => vec!["Amina".into(), "Farid".into()],
                _ => Vec::new(),
            },
            action,
            method,
            quorum: None,
            deadline_ms: crate::node::now_ms() + 60_000,
            mode: None,
        }),
    );
    for who in voters {
        let ballot = payload::Ballot {
            proposal,
            choice: choice.clone(),
        };
        act_as(fixture, council, who, Payload::Ballot(ballot));
    }
    let close = Payload::Close(payload::Close { proposal });
    act_as(fixture, council, voters[0], close);
    proposal
}

/// Amina and Farid elect one of them (`winner`, 0 for Amina) to a 30-day mandate.
fn elect(
    fixture: &Fixture,
    council: CouncilId,
    voters: [&Keypair; 2],
    scope: commune_core::mandate::Scope,
    winner: u32,
) -> EventId {
    use commune_core::mandate::MandateTerms;
    use commune_core::payload::Action;
    use commune_core::tally::{Choice, Method};
    let terms = MandateTerms {
        scope,
        term_ms: 30 * 24 * 60 * 60 * 1000,
        instructions: Vec::new(),
    };
    let action = Action::Elect {
        candidates: voters.map(Keypair::public).to_vec(),
        terms,
    };
    let method = Some(Method::Approval { winners: 1 });
    let choice = Choice::Approval {
        approved: vec![winner],
    };
    decide(fixture, council, voters, action, method, choice)
}

fn state_of(fixture: &Fixture, council: CouncilId) -> commune_core::state::State {
    let mut node = fixture.node.lock().unwrap();
    node.fold(council).unwrap().state.clone()
}

#[tokio::test]
async fn the_council_page_says_who_holds_its_mandates_and_which_are_suspended() {
    use commune_core::mandate::{Amount, Scope, Statement};

    let fixture = fixture();
    let (council, amina, farid) = council_of_two(&fixture, "Kitchen collective");
    let (_, html) = get_as(&fixture, Some(&amina), &format!("/c/{council}")).await;
    assert!(!html.contains("Who represents us"), "no mandates yet");
    elect(
        &fixture,
        council,
        [&amina, &farid],
        Scope::WorkingGroup {
            name: "soup kitchen".into(),
            limits: vec![Amount {
                unit: "hours".into(),
                quantity: 40,
            }],
        },
        1,
    );
    let (_, html) = get_as(&fixture, Some(&amina), &format!("/c/{council}")).await;
    assert!(html.contains("Who represents us"), "{html}");
    assert!(html.contains("soup kitchen") && html.contains("up to 40 hours"));
    assert!(!html.contains("Suspended by a recall petition"));

    // Farid sees the petition's form; his one signature in two members is a quarter and
    // more: the mandate is suspended. The form is signed in two steps, as the script does.
    let request = Request::get(format!("/c/{council}"))
        .header("cookie", session(&fixture.node, &farid))
        .body(Body::empty())
        .unwrap();
    let (_, html) = send(&fixture.node, request).await;
    assert!(html.contains("Sign the recall petition"), "{html}");
    let mandate = *fixture
        .node
        .lock()
        .unwrap()
        .fold(council)
        .unwrap()
        .state
        .mandates
        .keys()
        .next()
        .unwrap();
    let uri = format!("/c/{council}/petitions");
    let form = format!("mandate={mandate}&author={}", farid.public());
    let (status, first) = post_form(&fixture, &uri, &form).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let message = data_encoding::HEXLOWER
        .decode(first["statement_message"].as_str().unwrap().as_bytes())
        .unwrap();
    assert_eq!(
        message,
        Statement::Suspend { council, mandate }.signing_message()
    );
    // A signature that is not Farid's is refused when the signed event comes back.
    let forged = data_encoding::HEXLOWER.encode(&amina.sign(&message).0);
    let (_, draft) = post_form(
        &fixture,
        &uri,
        &format!("{form}&statement_signature={forged}"),
    )
    .await;
    let event_message = data_encoding::HEXLOWER
        .decode(draft["signing_message"].as_str().unwrap().as_bytes())
        .unwrap();
    let event = super::assemble_event(&event_message, &farid.sign(&event_message));
    assert!(commune_core::Event::decode_verified(&event).is_err());
    let (status, _) = submit(&fixture.node, &event).await;
    assert!(
        status.is_client_error(),
        "a forged petition signature is refused"
    );
    let signature = data_encoding::HEXLOWER.encode(&farid.sign(&message).0);
    act(
        &fixture,
        &farid,
        &uri,
        &format!("mandate={mandate}&statement_signature={signature}"),
    )
    .await;
    let (_, html) = get_as(&fixture, Some(&amina), &format!("/c/{council}")).await;
    assert!(html.contains("Suspended by a recall petition"), "{html}");
}

/// A member certifies the council's delegate from the mandate's card (the mandate statement
/// as the log has it now, signed in two steps like a petition), then opens the next election.
#[tokio::test]
async fn a_member_certifies_a_mandate_and_opens_an_election_from_the_web() {
    use commune_core::mandate::{MandateTerms, Scope};
    use commune_core::payload::Action;
    use commune_core::tally::{Choice, YesNo};

    let fixture = fixture();
    let (council, amina, farid) = council_of_two(&fixture, "Tenants");
    let federation = commune_core::CouncilId([5; 32]);
    let voters = [&amina, &farid];
    decide(
        &fixture,
        council,
        voters,
        Action::JoinFederation { federation },
        None,
        Choice::YesNo { vote: YesNo::Yes },
    );
    elect(
        &fixture,
        council,
        voters,
        Scope::Federation { federation },
        0,
    );
    let state = state_of(&fixture, council);
    let (mandate, _) = state.mandates.iter().next().expect("a mandate");
    let statement = state.mandate_statement(mandate).unwrap();
    let request = Request::get(format!("/c/{council}"))
        .header("cookie", session(&fixture.node, &amina))
        .body(Body::empty())
        .unwrap();
    let (_, html) = send(&fixture.node, request).await;
    assert!(
        html.contains("Certify this mandate to the federation"),
        "{html}"
    );
    let uri = format!("/c/{council}/certificates");
    let form = format!("mandate={mandate}&author={}", amina.public());
    let (status, first) = post_form(&fixture, &uri, &form).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let message = data_encoding::HEXLOWER
        .decode(first["statement_message"].as_str().unwrap().as_bytes())
        .unwrap();
    assert_eq!(message, statement.signing_message());
    // An unknown mandate is refused before anything is signed.
    let unknown = format!("mandate={}&author={}", "ab".repeat(32), amina.public());
    let (status, _) = post_form(&fixture, &uri, &unknown).await;
    assert!(status.is_client_error());
    let signature = data_encoding::HEXLOWER.encode(&amina.sign(&message).0);
    act(
        &fixture,
        &amina,
        &uri,
        &format!("mandate={mandate}&statement_signature={signature}"),
    )
    .await;
    let state = state_of(&fixture, council);
    let signed = &state.endorsements[&statement.id()];
    assert!(signed.signatures.contains_key(&amina.public()));
    let request = Request::get(format!("/c/{council}"))
        .header("cookie", session(&fixture.node, &amina))
        .body(Body::empty())
        .unwrap();
    let (_, html) = send(&fixture.node, request).await;
    assert!(
        html.contains("1 member(s) signed it as it stands"),
        "{html}"
    );

    // The next election, opened from the new-proposal page: Farid and Amina stand for one
    // seat for 30 days.
    let (_, html) = get_as(&fixture, Some(&amina), &format!("/c/{council}/new")).await;
    assert!(html.contains("Elect delegates"), "{html}");
    let uri = format!("/c/{council}/proposals");
    let election = "title=Our+next+delegate&method=stv-meek&winners=1&action=elect&term_days=30";
    let (status, refused) = post_form(
        &fixture,
        &uri,
        &format!(
            "{election}&options=Farid%0ANobody&federation={federation}&author={}",
            amina.public()
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("no member is called \"Nobody\""),
        "{refused}"
    );
    let page = act(
        &fixture,
        &amina,
        &uri,
        &format!("{election}&options=Farid%0AAmina&federation={federation}"),
    )
    .await;
    let id: EventId = page.rsplit('/').next().unwrap().parse().unwrap();
    let state = state_of(&fixture, council);
    assert_eq!(
        state.proposals[&id].action,
        Action::Elect {
            candidates: vec![farid.public(), amina.public()],
            terms: MandateTerms {
                scope: Scope::Federation { federation },
                term_ms: 30 * 24 * 60 * 60 * 1000,
                instructions: Vec::new(),
            },
        }
    );
    // One candidate stands against re-opening nominations.
    let page = act(
        &fixture,
        &amina,
        &uri,
        &format!(
            "title=A+delegate&method=approval&winners=1&action=elect&term_days=30\
             &options=Farid&federation={federation}"
        ),
    )
    .await;
    let id: EventId = page.rsplit('/').next().unwrap().parse().unwrap();
    let proposal = &state_of(&fixture, council).proposals[&id];
    assert_eq!(proposal.options, ["Farid", "re-open nominations"]);
    assert!(
        matches!(&proposal.action, Action::Elect { candidates, .. } if *candidates == [farid.public()])
    );
}

/// Ana's council with rice and a cargo bike in its catalogue and the bike in its commons.
fn commons(fixture: &Fixture) -> EventId {
    use commune_core::Payload;
    use commune_core::register::{ItemKind, Quantity, Resource};
    let mut node = fixture.node.lock().unwrap();
    for (name, unit) in [("rice", "kg"), ("cargo bike", "bike")] {
        let item = Payload::Item(ItemKind {
            name: name.into(),
            unit: unit.into(),
        });
        node.act(&fixture.keypair, fixture.council, item).unwrap();
    }
    let bike = Payload::Resource(Resource {
        name: "blue bike".into(),
        item: "cargo bike".into(),
        quantity: Quantity {
            amount: 1000,
            unit: "bike".into(),
        },
        place: "Hall".into(),
        rules: "Back by dark".into(),
    });
    node.act(&fixture.keypair, fixture.council, bike)
        .unwrap()
        .id
}

fn register_of(fixture: &Fixture) -> commune_core::register::Register {
    let mut node = fixture.node.lock().unwrap();
    node.fold(fixture.council).unwrap().state.register.clone()
}

#[tokio::test]
async fn a_need_an_offer_and_a_plan_go_through_the_register_page() {
    let fixture = fixture();
    let council = fixture.council;
    commons(&fixture);
    let page = format!("/c/{council}/register");
    let (status, html) = get(&fixture, &page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("blue bike") && html.contains("Back by dark"),
        "{html}"
    );
    let (status, html) = get_as(&fixture, None, &page).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        !html.contains("blue bike"),
        "a stranger reads no register: {html}"
    );
    assert!(!html.contains("<form"), "no forms for an unknown reader");

    let next = act(
        &fixture,
        &fixture.keypair,
        &format!("/c/{council}/needs"),
        "item=rice&quantity=2.5&urgency=vital&place=Hall&days=3&for=household&household=flat+3",
    )
    .await;
    assert_eq!(next, page);
    let register = register_of(&fixture);
    let need = register.needs.values().next().unwrap();
    assert_eq!(need.need.quantity.amount, 2500);
    assert_eq!(need.need.urgency, commune_core::plan::Urgency::Vital);
    assert_eq!(
        need.need.receiver,
        commune_core::register::Receiver::Household {
            name: "flat 3".into()
        }
    );
    act(
        &fixture,
        &fixture.keypair,
        &format!("/c/{council}/offers"),
        "kind=goods&item=rice&quantity=4&place=Hall&days=7",
    )
    .await;
    let (_, html) = get(&fixture, &page).await;
    assert!(
        html.contains("rice at Hall (vital): 2.5 of 2.5 kg"),
        "{html}"
    );
    assert!(html.contains("met in full"), "{html}");

    // The plan shown is the plan proposed; the vote is on the proposal's own page.
    let request = Request::get(&page)
        .header("cookie", session(&fixture.node, &fixture.keypair))
        .body(Body::empty())
        .unwrap();
    let (_, html) = send(&fixture.node, request).await;
    assert!(html.contains("Post a need"), "{html}");
    let draft = html
        .split(r#"name="draft" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a plan form with the draft's hash")
        .to_owned();
    let (status, _) = post_form(
        &fixture,
        &format!("/c/{council}/plans"),
        &format!("draft=0000&author={}", fixture.keypair.public()),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a stale draft");
    let proposal = act(
        &fixture,
        &fixture.keypair,
        &format!("/c/{council}/plans"),
        &format!("draft={draft}"),
    )
    .await;
    let (_, html) = get(&fixture, &proposal).await;
    assert!(
        html.contains("become the council&#39;s plan")
            || html.contains("become the council's plan"),
        "{html}"
    );
    act(
        &fixture,
        &fixture.keypair,
        &format!("{proposal}/ballot"),
        "vote=yes",
    )
    .await;
    act(&fixture, &fixture.keypair, &format!("{proposal}/close"), "").await;
    let register = register_of(&fixture);
    let plan = register
        .plans
        .values()
        .next()
        .expect("the plan was decided");
    assert_eq!(plan.terms.deliveries[0].quantity, 2500);
    let (_, html) = get(&fixture, &page).await;
    assert!(html.contains("decided: the council"), "{html}");

    // The delivery is recorded against the commitment; the need and the offer follow.
    let plan = *register.plans.keys().next().unwrap();
    act(
        &fixture,
        &fixture.keypair,
        &format!("/c/{council}/fulfilments"),
        &format!("plan={plan}&index=0&quantity=2.5"),
    )
    .await;
    let register = register_of(&fixture);
    assert_eq!(register.plans[&plan].fulfilled, vec![2500]);
    assert_eq!(register.needs.values().next().unwrap().received, 2500);
    assert_eq!(register.offers.values().next().unwrap().given, 2500);
    let (_, html) = get(&fixture, &page).await;
    assert!(html.contains("2.5 delivered"), "{html}");
}

/// The commons of the bakery test: its flour bin and its oven.
struct Bakery {
    bin: EventId,
    oven: EventId,
}

/// Fills the fixture council's catalogue (flour, water, bread, crumbs, ovens) and commons (a
/// bin of 12.5 kg of flour, an oven) for baking.
fn bakery(fixture: &Fixture) -> Bakery {
    use commune_core::Payload;
    use commune_core::register::{ItemKind, Quantity, Resource};
    let mut node = fixture.node.lock().unwrap();
    let mut act = |payload: Payload| {
        node.act(&fixture.keypair, fixture.council, payload)
            .unwrap()
            .id
    };
    for (name, unit) in [
        ("flour", "kg"),
        ("water", "l"),
        ("bread", "loaf"),
        ("crumbs", "kg"),
        ("oven", "oven"),
    ] {
        act(Payload::Item(ItemKind {
            name: name.into(),
            unit: unit.into(),
        }));
    }
    let mut resource = |name: &str, item: &str, amount: i64, unit: &str| {
        act(Payload::Resource(Resource {
            name: name.into(),
            item: item.into(),
            quantity: Quantity {
                amount,
                unit: unit.into(),
            },
            place: "Bakery".into(),
            rules: String::new(),
        }))
    };
    let bin = resource("Flour bin", "flour", 12_500, "kg");
    let oven = resource("Big oven", "oven", 1000, "oven");
    Bakery { bin, oven }
}

/// The process form's fields for a bake of two outputs, two inputs (as `inputs`, one a
/// line, URL-encoded), two skills and the oven.
fn bake_form(inputs: &str) -> String {
    format!(
        "name=Bake&outputs=bread+2%0D%0Acrumbs+0.125&inputs={inputs}\
         &labour=baking+0.75%0Acleaning%3D0.25&equipment=big+oven+1&capacity=40&place=Bakery"
    )
}

#[tokio::test]
async fn a_process_of_many_flows_is_described_and_a_bad_line_is_named() {
    let fixture = fixture();
    let council = fixture.council;
    let bakery = bakery(&fixture);
    let processes = format!("/c/{council}/processes");
    let before = event_count(&fixture);
    let author = fixture.keypair.public();
    let good = bake_form("flour+1");
    for (form, error) in [
        (
            bake_form("flour+0.5%0Aflour+lots"),
            "“Uses”, line 2 (“flour lots”): a quantity is a number",
        ),
        (
            bake_form("flour+0.5%0A%0Asugar+1"),
            "“Uses”, line 3 (“sugar 1”): \"sugar\" is not in the council's catalogue",
        ),
        (
            bake_form("flour"),
            "“Uses”, line 1 (“flour”): write what, then how much",
        ),
        (
            good.replace("big+oven", "small+oven"),
            "“Equipment”, line 1 (“small oven 1”): no commons resource",
        ),
        (
            good.replace("outputs=bread+2%0D%0Acrumbs+0.125", "outputs=%0A"),
            "fill in “Makes”",
        ),
    ] {
        let form = format!("{form}&author={author}");
        let (status, answer) = post_form(&fixture, &processes, &form).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{form}: {answer}");
        let message = answer["error"].as_str().unwrap();
        assert!(message.contains(error), "{form}: {message}");
    }
    assert_eq!(event_count(&fixture), before, "nothing stored");

    act(
        &fixture,
        &fixture.keypair,
        &processes,
        &bake_form("flour+0.5%0A%0A+water+0.3+"),
    )
    .await;
    let register = register_of(&fixture);
    let bake = &register.processes.values().next().unwrap().recipe;
    let flows = |flows: &[commune_core::register::Flow]| -> Vec<(String, i64)> {
        flows
            .iter()
            .map(|f| (f.item.clone(), f.quantity.amount))
            .collect()
    };
    assert_eq!(
        flows(&bake.outputs),
        [("bread".into(), 2000), ("crumbs".into(), 125)]
    );
    assert_eq!(
        flows(&bake.inputs),
        [("flour".into(), 500), ("water".into(), 300)],
        "blank lines are left out"
    );
    let labour: Vec<_> = bake
        .labour
        .iter()
        .map(|l| (l.skill.as_str(), l.hours.amount))
        .collect();
    assert_eq!(labour, [("baking", 750), ("cleaning", 250)]);
    assert_eq!(bake.equipment[0].resource, bakery.oven);
    assert_eq!(bake.equipment[0].hours.amount, 1000);
    assert_eq!(bake.capacity, 40_000);
}

#[tokio::test]
async fn what_happened_is_recorded_without_a_plan_and_stocks_follow() {
    let fixture = fixture();
    let council = fixture.council;
    let Bakery { bin, .. } = bakery(&fixture);
    let fulfilments = format!("/c/{council}/fulfilments");
    let key = &fixture.keypair;
    act(
        &fixture,
        key,
        &fulfilments,
        &format!("action=produce&what=flour&quantity=2&resource={bin}"),
    )
    .await;
    act(
        &fixture,
        key,
        &fulfilments,
        &format!("action=use&what=flour&quantity=0.5&resource={bin}&need="),
    )
    .await;
    act(
        &fixture,
        key,
        &fulfilments,
        "action=work&what=baking&quantity=3&resource=&need=",
    )
    .await;
    act(
        &fixture,
        key,
        &format!("/c/{council}/needs"),
        "item=flour&quantity=4&urgency=vital&place=Hall&days=7&for=council",
    )
    .await;
    let need = *register_of(&fixture).needs.keys().next().unwrap();
    act(
        &fixture,
        key,
        &fulfilments,
        &format!("action=deliver&what=flour&quantity=4&resource={bin}&need={need}"),
    )
    .await;
    let register = register_of(&fixture);
    assert_eq!(
        register.resources[&bin].quantity.amount,
        12_500 + 2000 - 500 - 4000
    );
    assert_eq!(register.needs[&need].received, 4000);
    let worked: Vec<_> = register
        .fulfilments
        .values()
        .filter(|f| f.fulfil.action == commune_core::register::FlowAction::Work)
        .map(|f| {
            (
                f.fulfil.item.as_str(),
                f.fulfil.quantity.amount,
                f.fulfil.quantity.unit.as_str(),
            )
        })
        .collect();
    assert_eq!(worked, [("baking", 3000, "hour")]);
    let (_, html) = get(&fixture, &format!("/c/{council}/register")).await;
    assert!(html.contains("10 kg of flour"), "the bin's stock: {html}");

    // Bad input: a clear answer, and nothing stored.
    let before = event_count(&fixture);
    let author = key.public();
    for (form, error) in [
        (
            "action=steal&what=flour&quantity=1",
            "\"steal\" is not something that happens",
        ),
        ("action=use&what=flour&quantity=lots", "three decimals"),
        (
            "action=use&what=sugar&quantity=1",
            "\"sugar\" is not in the council's catalogue",
        ),
        (
            "action=use&what=flour&quantity=1&resource=oven",
            "is not a resource id",
        ),
        ("action=use&quantity=1", "fill in “What”"),
    ] {
        let (status, answer) =
            post_form(&fixture, &fulfilments, &format!("{form}&author={author}")).await;
        assert!(status.is_client_error(), "{form}: {answer}");
        let message = answer["error"].as_str().unwrap();
        assert!(message.contains(error), "{form}: {message}");
    }
    // What only the fold can judge is refused when the signed event comes back.
    for (form, error) in [
        (
            format!("action=use&what=flour&quantity=11&resource={bin}"),
            "only 10 kg of Flour bin in stock",
        ),
        (
            format!("action=use&what=flour&quantity=1&need={need}"),
            "a need is met by delivering to it",
        ),
    ] {
        let (status, draft) =
            post_form(&fixture, &fulfilments, &format!("{form}&author={author}")).await;
        assert_eq!(status, StatusCode::OK, "{draft}");
        let (status, refused) = submit(&fixture.node, &sign_like_the_script(&draft, key)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        let message = refused["error"].as_str().unwrap();
        assert!(message.contains(error), "{form}: {message}");
    }
    assert_eq!(event_count(&fixture), before, "nothing stored");
}

#[tokio::test]
async fn the_catalogue_and_the_commons_are_filled_from_the_register_page() {
    let fixture = fixture();
    let council = fixture.council;
    let key = &fixture.keypair;
    act(
        &fixture,
        key,
        &format!("/c/{council}/items"),
        "name=flour&unit=kg",
    )
    .await;
    act(
        &fixture,
        key,
        &format!("/c/{council}/resources"),
        "name=Flour+bin&item=flour&quantity=12.5&place=Bakery&rules=Close+the+lid",
    )
    .await;
    let register = register_of(&fixture);
    assert_eq!(register.items["flour"].unit, "kg");
    let bin = register.resources.values().next().unwrap();
    assert_eq!(
        (bin.quantity.amount, bin.place.as_str()),
        (12_500, "Bakery")
    );
    let form = format!("name=flour&unit=g&author={}", key.public());
    let (status, draft) = post_form(&fixture, &format!("/c/{council}/items"), &form).await;
    assert_eq!(status, StatusCode::OK);
    let (status, refused) = submit(&fixture.node, &sign_like_the_script(&draft, key)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("already in the catalogue")
    );
}

#[tokio::test]
async fn a_booking_is_made_and_an_overlapping_one_refused_with_the_reason() {
    let fixture = fixture();
    let council = fixture.council;
    let bike = commons(&fixture);
    let bookings = format!("/c/{council}/bookings");
    act(
        &fixture,
        &fixture.keypair,
        &bookings,
        &format!("resource={bike}&starts_in=1&hours=2"),
    )
    .await;
    let booked = *register_of(&fixture).bookings.keys().next().unwrap();
    let before = event_count(&fixture);

    // Bob, another member, asks for an hour inside Ana's two.
    let bob = Keypair::from_seed([9; 32]);
    {
        let mut node = fixture.node.lock().unwrap();
        let invitation = node
            .invite(&fixture.keypair, council, 60 * 60 * 1000)
            .unwrap();
        let join = commune_core::Payload::Join(commune_core::payload::Join {
            name: "Bob".into(),
            invitation: Some(invitation),
        });
        node.act(&bob, council, join).unwrap();
    }
    let before = before + 1;
    let form = format!(
        "resource={bike}&starts_in=2&hours=1&author={}",
        bob.public()
    );
    let (status, draft) = post_form(&fixture, &bookings, &form).await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    let (status, refused) = submit(&fixture.node, &sign_like_the_script(&draft, &bob)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let reason = refused["error"].as_str().unwrap();
    assert!(
        reason.contains(&format!("overlaps booking {} by Ana", booked.short())),
        "{reason}"
    );
    assert_eq!(event_count(&fixture), before, "nothing stored");
    // Later the same day is free.
    let form = format!("resource={bike}&starts_in=3&hours=1");
    act(&fixture, &bob, &bookings, &form).await;
    let (_, html) = get(&fixture, &format!("/c/{council}/register")).await;
    assert!(
        html.contains("Booked by Ana") && html.contains("Booked by Bob"),
        "{html}"
    );

    // A form that makes no sense gets a clear answer and no draft.
    let form = format!("item=rice&quantity=lots&author={}", bob.public());
    let (status, answer) = post_form(&fixture, &format!("/c/{council}/needs"), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        answer["error"].as_str().unwrap().contains("three decimals"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_plan_the_council_overturned_is_shown_so_and_its_commitments_refused() {
    use commune_core::mandate::{Amount, Scope};
    use commune_core::payload::Action;
    use commune_core::register::{Adopt, ItemKind, Quantity, Resource, Transport};
    use commune_core::tally::{Choice, YesNo};
    use commune_core::{Payload, plan::Urgency};

    let fixture = fixture();
    let (council, amina, farid) = council_of_two(&fixture, "Kitchen collective");
    let voters = [&amina, &farid];
    let rice = ItemKind {
        name: "rice".into(),
        unit: "kg".into(),
    };
    act_as(&fixture, council, &amina, Payload::Item(rice));
    let store = Resource {
        name: "Rice store".into(),
        item: "rice".into(),
        quantity: Quantity {
            amount: 10_000,
            unit: "kg".into(),
        },
        place: "Hall".into(),
        rules: String::new(),
    };
    act_as(&fixture, council, &amina, Payload::Resource(store));
    let need = commune_core::register::Need {
        item: "rice".into(),
        quantity: Quantity {
            amount: 3000,
            unit: "kg".into(),
        },
        place: "Hall".into(),
        by_ms: crate::node::now_ms() + 24 * 60 * 60 * 1000,
        urgency: Urgency::Vital,
        receiver: commune_core::register::Receiver::Council,
    };
    act_as(&fixture, council, &farid, Payload::Need(need));
    elect(
        &fixture,
        council,
        voters,
        Scope::WorkingGroup {
            name: "kitchen".into(),
            limits: vec![Amount {
                unit: "rice".into(),
                quantity: 5,
            }],
        },
        0,
    );
    let state = state_of(&fixture, council);
    let mandate = *state.mandates.keys().next().expect("Amina's mandate");
    let drafted = crate::register::draft(&state, crate::node::now_ms(), Transport::None).unwrap();
    let adopt = Adopt {
        mandate,
        terms: drafted.terms,
    };
    let plan = act_as(&fixture, council, &amina, Payload::Adopt(adopt));
    let page = format!("/c/{council}/register");
    let (_, html) = get_as(&fixture, Some(&amina), &page).await;
    assert!(
        html.contains("Commitments") && !html.contains("Overturned plans"),
        "{html}"
    );

    decide(
        &fixture,
        council,
        voters,
        Action::Overturn { act: plan },
        None,
        Choice::YesNo { vote: YesNo::Yes },
    );
    let (_, html) = get_as(&fixture, Some(&amina), &page).await;
    assert!(html.contains("Overturned plans"), "{html}");
    assert!(!html.contains("Commitments"), "{html}");
    let stored = || {
        let node = fixture.node.lock().unwrap();
        node.store().event_count(council).unwrap()
    };
    let before = stored();
    let form = format!("plan={plan}&index=0&quantity=1&author={}", amina.public());
    let (status, draft) = post_form(&fixture, &format!("/c/{council}/fulfilments"), &form).await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    let (status, refused) = submit(&fixture.node, &sign_like_the_script(&draft, &amina)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let reason = refused["error"].as_str().unwrap();
    assert!(
        reason.contains(&format!(
            "plan {} was overturned by the council's decision",
            plan.short()
        )),
        "{reason}"
    );
    assert_eq!(stored(), before, "nothing stored");
}

/// Every route of the router (as `server::routes` lists them), walked as a stranger, a
/// member of another council, a removed member and a member, on a members-only council and
/// on a public one: what each may read, and never a ballot, a title or a name of the
/// members-only council in anything a non-member gets.
#[tokio::test]
async fn every_route_answers_each_reader_as_the_reading_rule_says() {
    use commune_core::constitution::{Constitution, Reading};
    use commune_core::payload::{self, Action, Payload};
    use commune_core::tally::{Choice, YesNo};

    let fixture = fixture();
    let amina = Keypair::from_seed([61; 32]);
    let farid = Keypair::from_seed([62; 32]);
    let bo = Keypair::from_seed([63; 32]);
    let cy = Keypair::from_seed([64; 32]);
    let stranger = Keypair::from_seed([65; 32]);
    // A members-only council (as founded without a choice, or `private`, which reads the
    // same today): Amina and Farid are members, Bo was removed.
    let members_only = |reading: Option<Reading>| {
        let mut constitution = Constitution {
            reading,
            ..Constitution::default()
        };
        constitution.removal.min_duration_ms = 0;
        let hidden = fixture
            .node
            .lock()
            .unwrap()
            .found(&amina, "Union drive", "Amina Quietname", constitution)
            .unwrap()
            .council();
        for (who, name, nonce) in [(&farid, "Farid Hushname", 1), (&bo, "Bo Leftname", 2)] {
            let invitation = commune_core::invite::Invitation::new(
                hidden,
                "Union drive".into(),
                &amina,
                [nonce; 16],
                crate::node::now_ms() + 60_000,
            );
            let join = payload::Join {
                name: name.into(),
                invitation: Some(invitation),
            };
            act_as(&fixture, hidden, who, Payload::Join(join));
        }
        // Bo is removed by the council.
        let removal = act_as(
            &fixture,
            hidden,
            &amina,
            Payload::Propose(payload::Propose {
                title: "Remove the informer".into(),
                text: String::new(),
                options: Vec::new(),
                action: Action::Remove {
                    member: bo.public(),
                },
                method: None,
                quorum: None,
                deadline_ms: crate::node::now_ms() + 60_000,
                mode: None,
            }),
        );
        for who in [&amina, &farid, &bo] {
            let ballot = payload::Ballot {
                proposal: removal,
                choice: Choice::YesNo { vote: YesNo::Yes },
            };
            act_as(&fixture, hidden, who, Payload::Ballot(ballot));
        }
        act_as(
            &fixture,
            hidden,
            &amina,
            Payload::Close(payload::Close { proposal: removal }),
        );
        let secret = decide(
            &fixture,
            hidden,
            [&amina, &farid],
            Action::None,
            None,
            Choice::YesNo { vote: YesNo::No },
        );
        let comment = payload::Comment {
            proposal: secret,
            reply_to: None,
            text: "Meet at the back door".into(),
        };
        act_as(&fixture, hidden, &farid, Payload::Comment(comment));
        assert!(
            !state_of(&fixture, hidden)
                .members
                .contains_key(&bo.public())
        );
        (hidden, secret)
    };
    let (hidden, secret) = members_only(None);
    let (private, private_secret) = members_only(Some(Reading::Private));
    let public = fixture
        .node
        .lock()
        .unwrap()
        .found(
            &cy,
            "Open pantry",
            "Cy",
            Constitution {
                reading: Some(Reading::Public),
                ..Constitution::default()
            },
        )
        .unwrap()
        .council();
    let pantry = act_as(
        &fixture,
        public,
        &cy,
        Payload::Propose(payload::Propose {
            title: "Stock rice".into(),
            text: String::new(),
            options: Vec::new(),
            action: Action::None,
            method: None,
            quorum: None,
            deadline_ms: crate::node::now_ms() + 60_000,
            mode: None,
        }),
    );

    // What a non-member of the members-only council must never see.
    let secrets = [
        "Amina Quietname".to_owned(),
        "Farid Hushname".to_owned(),
        "Remove the informer".to_owned(),
        "Meet at the back door".to_owned(),
        amina.public().to_string(),
        farid.public().to_string(),
        secret.to_string(),
        private_secret.to_string(),
    ];
    let listed = crate::server::routes(&fixture.node).listed;
    assert!(listed.len() > 30, "the router lists its routes: {listed:?}");
    let readers = [
        ("a stranger", Some(&stranger), false),
        ("not signed in", None, false),
        ("a member of another council", Some(&cy), false),
        ("a removed member", Some(&bo), false),
        ("a member", Some(&farid), true),
    ];
    let councils = [
        (hidden, secret, true),
        (private, private_secret, true),
        (public, pantry, false),
    ];
    for (council, proposal, members_only) in councils {
        for &(method, path) in &listed {
            let uri = path
                .replace("{council}", &council.to_string())
                .replace("{proposal}", &proposal.to_string());
            assert!(
                !uri.contains('{'),
                "the walk does not know how to fill {path}: teach it"
            );
            for &(who, keypair, member) in &readers {
                let (status, text) = probe(&fixture, method, &uri, keypair).await;
                let about_council = uri.contains(&council.to_string());
                let may_read = member || !members_only;
                if !may_read {
                    for secret in &secrets {
                        assert!(
                            !text.contains(secret.as_str()),
                            "{method} {uri} as {who} ({status}) shows {secret:?}: {text}"
                        );
                    }
                }
                if about_council && may_read {
                    assert_ne!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{method} {uri} as {who} may read: {text}"
                    );
                }
                if about_council && !may_read && method == "GET" && path != "/c/{council}" {
                    assert_eq!(
                        status,
                        StatusCode::FORBIDDEN,
                        "{method} {uri} as {who}: {text}"
                    );
                }
                if path == "/c/{council}" {
                    assert!(text.contains(if members_only {
                        "Union drive"
                    } else {
                        "Stock rice"
                    }));
                    if !may_read {
                        assert!(text.contains("read by its members only"), "{text}");
                        assert!(text.contains("invitation"), "how to ask to join: {text}");
                    }
                }
                if path == "/sync/v1/{council}/exchange" {
                    // Sync is always signed, even for a public council.
                    let expected = match (may_read, keypair) {
                        (_, None) => StatusCode::UNAUTHORIZED,
                        (true, Some(_)) => StatusCode::OK,
                        (false, Some(_)) => StatusCode::FORBIDDEN,
                    };
                    assert_eq!(status, expected, "sync as {who}: {text}");
                }
                if path == "/api/councils/{council}" && may_read {
                    assert_eq!(status, StatusCode::OK, "{uri} as {who}: {text}");
                }
            }
        }
    }
}

/// One request of the route walk as `keypair` (signed in, and signing sync requests); the
/// status and the body as text. A live stream is not read (it does not end): only its
/// status, and its absence of a body when refused.
async fn probe(
    fixture: &Fixture,
    method: &str,
    uri: &str,
    keypair: Option<&Keypair>,
) -> (StatusCode, String) {
    let sync = uri.starts_with("/sync/v1/");
    let body: Vec<u8> = if sync {
        if uri.ends_with("/exchange") {
            commune_core::sync::encode_message(&commune_core::sync::Exchange {
                want: vec![vec![0u8].into()],
                push: Vec::new(),
            })
        } else {
            Vec::new()
        }
    } else if method == "POST" {
        match keypair {
            Some(keypair) => {
                format!("author={}&name=x&text=x&title=x", keypair.public()).into_bytes()
            }
            None => b"name=x".to_vec(),
        }
    } else {
        Vec::new()
    };
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "127.0.0.1:7878")
        .header("content-type", if sync { "application/cbor" } else { FORM })
        .header("accept", "application/json");
    if let Some(keypair) = keypair {
        request = request.header("cookie", session(&fixture.node, keypair));
        if sync {
            let path = uri.to_owned();
            let signature =
                crate::transport::auth::sign(keypair, "POST", &path, crate::node::now_ms(), &body);
            request = request.header(crate::transport::auth::HEADER, signature);
        }
    }
    let request = request.body(Body::from(body)).unwrap();
    if uri.ends_with("/live") {
        let response = crate::server::router(fixture.node.clone())
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status();
        if status == StatusCode::OK {
            return (status, String::new());
        }
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        return (status, String::from_utf8_lossy(&bytes).into_owned());
    }
    send(&fixture.node, request).await
}

/// A session made while its key was a member reads nothing once the council removes them,
/// and signing out ends a session on the node.
#[tokio::test]
async fn a_removed_members_session_stops_working_and_signing_out_ends_one() {
    use commune_core::constitution::Constitution;
    use commune_core::payload::{self, Action, Payload};
    use commune_core::tally::{Choice, YesNo};

    let fixture = fixture();
    let amina = Keypair::from_seed([71; 32]);
    let farid = Keypair::from_seed([72; 32]);
    let mut constitution = Constitution::default();
    constitution.removal.min_duration_ms = 0;
    let council = fixture
        .node
        .lock()
        .unwrap()
        .found(&amina, "Rent strike", "Amina", constitution)
        .unwrap()
        .council();
    let invitation = commune_core::invite::Invitation::new(
        council,
        "Rent strike".into(),
        &amina,
        [1; 16],
        crate::node::now_ms() + 60_000,
    );
    let join = payload::Join {
        name: "Farid".into(),
        invitation: Some(invitation),
    };
    act_as(&fixture, council, &farid, Payload::Join(join));
    let cookie = session(&fixture.node, &farid);
    let read = |cookie: String| {
        let request = Request::get(format!("/api/councils/{council}"))
            .header("cookie", cookie)
            .body(Body::empty())
            .unwrap();
        send(&fixture.node, request)
    };
    let (status, body) = read(cookie.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Farid listens to the council's changes, as his open page does.
    let request = Request::get(format!("/c/{council}/live"))
        .header("cookie", cookie.clone())
        .body(Body::empty())
        .unwrap();
    let response = crate::server::router(fixture.node.clone())
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut live = response.into_body().into_data_stream();

    decide(
        &fixture,
        council,
        [&amina, &farid],
        Action::Remove {
            member: farid.public(),
        },
        None,
        Choice::YesNo { vote: YesNo::Yes },
    );
    let (status, body) = read(cookie.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("you are not a member"), "{body}");
    assert!(!body.contains("Amina"), "{body}");
    // His stream has the changes queued, and ends at once: he is no longer a member. (Polled
    // once, first: a stream that went on would give the next change instead.)
    let next = tokio::select! {
        biased;
        next = live.next() => next.map(|chunk| chunk.is_ok()),
        () = std::future::ready(()) => panic!("the stream had nothing ready"),
    };
    assert_eq!(next, None, "the removed member's stream went on");

    // Amina signs out: her cookie no longer says who she is.
    let cookie = session(&fixture.node, &amina);
    let (status, _) = read(cookie.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let request = Request::post("/session/end")
        .header("cookie", cookie.clone())
        .body(Body::empty())
        .unwrap();
    let (status, _) = send(&fixture.node, request).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = read(cookie).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("not signed in"), "{body}");
}

/// Signing in over HTTP: the challenge route, the answer, and the cookie's attributes; a
/// replayed answer is refused.
#[tokio::test]
async fn signing_in_answers_a_challenge_with_an_http_only_cookie() {
    let fixture = fixture();
    let (status, challenge) = call(&fixture.node, "GET", "/session/challenge", Body::empty()).await;
    assert_eq!(status, StatusCode::OK);
    let challenge = challenge["challenge"].as_str().unwrap().to_owned();
    let bytes: [u8; 32] = data_encoding::HEXLOWER
        .decode(challenge.as_bytes())
        .unwrap()
        .try_into()
        .unwrap();
    let key = fixture.keypair.public();
    let signature = fixture.keypair.sign(&crate::session::message(&bytes, &key));
    let answer = serde_json::json!({
        "key": key,
        "challenge": challenge,
        "signature": data_encoding::HEXLOWER.encode(&signature.0),
    })
    .to_string();
    let sign_in = |answer: String, origin: &'static str| {
        let request = Request::post("/session")
            .header("content-type", "application/json")
            .header("host", "node.example")
            .header("origin", origin)
            .body(Body::from(answer))
            .unwrap();
        crate::server::router(fixture.node.clone()).oneshot(request)
    };
    let response = sign_in(answer.clone(), "https://node.example")
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Secure",
        "Max-Age=604800",
        "Path=/",
    ] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    let token = cookie.split(';').next().unwrap().to_owned();
    let request = Request::get("/session")
        .header("cookie", token)
        .body(Body::empty())
        .unwrap();
    let (_, who) = send(&fixture.node, request).await;
    assert!(who.contains(&key.to_string()), "{who}");

    let replayed = sign_in(answer, "https://node.example").await.unwrap();
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_proposal_page_shows_consent_reasons_a_revoked_urgent_decision_and_its_counts_unit() {
    use commune_core::payload::{self, Action, Mode, Payload};
    use commune_core::tally::{Choice, Method, Position, YesNo};
    let fixture = fixture();
    let (council, amina, farid) = council_of_two(&fixture, "Depot workers");
    let page = |proposal: EventId| format!("/c/{council}/p/{proposal}");
    // A consent question with a block and an objection, each with its reason.
    let consent = act_as(
        &fixture,
        council,
        &amina,
        Payload::Propose(payload::Propose {
            title: "Adopt the rota".into(),
            text: String::new(),
            action: Action::None,
            method: Some(Method::Consent { max_objections: 1 }),
            options: Vec::new(),
            quorum: None,
            deadline_ms: crate::node::now_ms() + 60_000,
            mode: None,
        }),
    );
    for (who, position, reason) in [
        (
            &amina,
            Position::Block,
            "Nights fall on the same three people",
        ),
        (&farid, Position::Object, "Too long to read at a meeting"),
    ] {
        let choice = Choice::Consent {
            position,
            reason: reason.into(),
        };
        let ballot = payload::Ballot {
            proposal: consent,
            choice,
        };
        act_as(&fixture, council, who, Payload::Ballot(ballot));
    }
    let (status, html) = get_as(&fixture, Some(&amina), &page(consent)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Objections and blocks"), "{html}");
    assert!(
        html.contains("<strong>Amina</strong> blocks: Nights fall on the same three people"),
        "{html}"
    );
    assert!(
        html.contains("<strong>Farid</strong> objects: Too long to read at a meeting"),
        "{html}"
    );
    assert!(html.contains("Counts, in ballots:"), "{html}");
    // Nobody outside the council reads them.
    let (_, outside) = get_as(&fixture, None, &page(consent)).await;
    assert!(!outside.contains("Nights fall"), "{outside}");

    // An urgent decision the council does not ratify reads as revoked.
    let urgent = act_as(
        &fixture,
        council,
        &amina,
        Payload::Propose(payload::Propose {
            title: "Stop the line now".into(),
            text: String::new(),
            action: Action::None,
            method: Some(Method::Majority),
            options: Vec::new(),
            quorum: None,
            deadline_ms: crate::node::now_ms() + 60_000,
            mode: Some(Mode::Urgent),
        }),
    );
    for who in [&amina, &farid] {
        let ballot = payload::Ballot {
            proposal: urgent,
            choice: Choice::YesNo { vote: YesNo::Yes },
        };
        act_as(&fixture, council, who, Payload::Ballot(ballot));
    }
    let close = Payload::Close(payload::Close { proposal: urgent });
    act_as(&fixture, council, &amina, close);
    let ratification = state_of(&fixture, council).proposals[&urgent]
        .decision
        .as_ref()
        .and_then(|d| d.ratification)
        .expect("an urgent decision opens its ratification");
    for who in [&amina, &farid] {
        let ballot = payload::Ballot {
            proposal: ratification,
            choice: Choice::YesNo { vote: YesNo::No },
        };
        act_as(&fixture, council, who, Payload::Ballot(ballot));
    }
    let close = Payload::Close(payload::Close {
        proposal: ratification,
    });
    act_as(&fixture, council, &amina, close);
    let (_, html) = get_as(&fixture, Some(&amina), &page(urgent)).await;
    assert!(
        html.contains("Result: passed, then revoked: not ratified"),
        "{html}"
    );
    assert!(
        html.contains("REVOKED: the council did not ratify this urgent decision"),
        "{html}"
    );
}
