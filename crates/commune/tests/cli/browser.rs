//! End-to-end tests in a real headless Chromium, driven over the DevTools protocol: two
//! members in two browser profiles found a council, invite, propose, vote, close and see
//! the result, each signing in their own browser with a key the node never sees; and a
//! member fills the register on a phone-sized page (a process of two outputs among it), where
//! an overlapping booking is refused.
//!
//! They run unless `COMMUNE_BROWSER_TESTS=0` (`.ci/run` installs Debian's `chromium`, and
//! refuses that switch under CI); a missing browser fails them. `COMMUNE_CHROMIUM` names
//! another binary. On a failure the page is saved as a
//! PNG under the target directory, and its path is in the panic message.

use std::io::ErrorKind;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

use super::TestNode;

const PASSPHRASE: &str = "correct horse battery staple";

/// The browser tests run unless switched off, as the PostgreSQL tests do: a missing browser
/// fails them, naming the package, rather than letting them pass unseen.
fn enabled() -> bool {
    std::env::var("COMMUNE_BROWSER_TESTS").as_deref() != Ok("0")
}

/// One Chromium with its own fresh profile (so its own IndexedDB: its own key), and one
/// page in it.
struct Browser {
    name: &'static str,
    child: Child,
    socket: WebSocket<TcpStream>,
    session: String,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    fn launch(name: &'static str) -> Browser {
        let binary = std::env::var("COMMUNE_CHROMIUM").unwrap_or_else(|_| "chromium".into());
        let profile = tempfile::TempDir::new().unwrap();
        let child = Command::new(&binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
                "--window-size=360,1200",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {binary} ({e}): install Debian's chromium, or set COMMUNE_CHROMIUM")
            });
        // Chromium writes the port it listens on, and the browser's path, into the profile.
        let port_file = profile.path().join("DevToolsActivePort");
        let started = Instant::now();
        let text = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file)
                && text.lines().count() >= 2
            {
                break text;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{binary} did not open its DevTools port within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut lines = text.lines();
        let (port, path) = (lines.next().unwrap(), lines.next().unwrap());
        let stream = TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let (socket, _) = tungstenite::client(format!("ws://127.0.0.1:{port}{path}"), stream)
            .expect("the DevTools handshake");
        let mut browser = Browser {
            name,
            child,
            socket,
            session: String::new(),
            next_id: 0,
            _profile: profile,
        };
        let target = browser.command("Target.createTarget", json!({ "url": "about:blank" }));
        let attached = browser.command(
            "Target.attachToTarget",
            json!({ "targetId": target["targetId"], "flatten": true }),
        );
        browser.session = attached["sessionId"].as_str().unwrap().to_owned();
        browser
    }

    /// Sends a DevTools command (to the page once attached) and returns its result.
    fn command(&mut self, method: &str, params: Value) -> Value {
        self.try_command(method, params)
            .unwrap_or_else(|error| panic!("{}: {method} failed: {error}", self.name))
    }

    fn try_command(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if !self.session.is_empty() {
            message["sessionId"] = self.session.clone().into();
        }
        self.socket
            .send(Message::text(message.to_string()))
            .map_err(|e| e.to_string())?;
        loop {
            let text = match self.socket.read() {
                Ok(Message::Text(text)) => text,
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e)) if e.kind() == ErrorKind::WouldBlock => {
                    return Err("no answer within 60 s".into());
                }
                Err(e) => return Err(e.to_string()),
            };
            let answer: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            if answer["id"].as_u64() == Some(id) {
                return match answer.get("error") {
                    Some(error) => Err(error.to_string()),
                    None => Ok(answer["result"].clone()),
                };
            }
        }
    }

    /// Evaluates JavaScript in the page (awaiting a promise) and returns its value.
    fn try_eval(&mut self, script: &str) -> Result<Value, String> {
        let result = self.try_command(
            "Runtime.evaluate",
            json!({ "expression": script, "awaitPromise": true, "returnByValue": true }),
        )?;
        match result.get("exceptionDetails") {
            Some(details) => Err(details.to_string()),
            None => Ok(result["result"]["value"].clone()),
        }
    }

    fn eval(&mut self, script: &str) -> Value {
        match self.try_eval(script) {
            Ok(value) => value,
            Err(error) => self.fail(&format!("{script} threw {error}")),
        }
    }

    /// Waits until `condition` (JavaScript) is truthy; returns its value.
    fn wait(&mut self, condition: &str, what: &str) -> Value {
        let started = Instant::now();
        loop {
            // While a page loads, its context may be gone: that is "not yet".
            if let Ok(value) = self.try_eval(condition)
                && !matches!(value, Value::Null | Value::Bool(false))
                && value != json!("")
            {
                return value;
            }
            if started.elapsed() > Duration::from_secs(30) {
                let status = self
                    .try_eval("[...document.querySelectorAll('.status')].map(s => s.textContent).join(' | ')")
                    .unwrap_or_default();
                self.fail(&format!("waited 30 s for {what}; the page says: {status}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn goto(&mut self, url: &str) {
        self.command("Page.navigate", json!({ "url": url }));
        let expected = serde_json::to_string(url).unwrap();
        self.wait(
            &format!("document.readyState === 'complete' && location.href === {expected}"),
            &format!("{url} to load"),
        );
    }

    /// Fills in a form field (by CSS selector).
    fn fill(&mut self, selector: &str, value: &str) {
        let script = format!(
            "(() => {{ const e = document.querySelector({}); e.value = {}; return true; }})()",
            serde_json::to_string(selector).unwrap(),
            serde_json::to_string(value).unwrap()
        );
        self.eval(&script);
    }

    fn click(&mut self, selector: &str) {
        let script = format!(
            "(() => {{ document.querySelector({}).click(); return true; }})()",
            serde_json::to_string(selector).unwrap()
        );
        self.eval(&script);
    }

    fn text(&mut self, selector: &str) -> String {
        let script = format!(
            "document.querySelector({})?.textContent ?? ''",
            serde_json::to_string(selector).unwrap()
        );
        self.eval(&script).as_str().unwrap_or_default().to_owned()
    }

    /// Saves a screenshot and fails the test, naming the file.
    fn fail(&mut self, message: &str) -> ! {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-failures");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}.png", self.name));
        let saved = self
            .try_command("Page.captureScreenshot", json!({ "format": "png" }))
            .ok()
            .and_then(|shot| {
                data_encoding::BASE64
                    .decode(shot["data"].as_str()?.as_bytes())
                    .ok()
            })
            .map(|png| std::fs::write(&path, png).is_ok())
            .unwrap_or(false);
        let url = self.try_eval("location.href").unwrap_or_default();
        panic!(
            "{} at {url}: {message}{}",
            self.name,
            if saved {
                format!(" (screenshot: {})", path.display())
            } else {
                " (no screenshot could be taken)".into()
            }
        );
    }

    /// Makes a key on the "My key" page; returns its public key.
    fn make_key(&mut self, base: &str) -> String {
        self.goto(&format!("{base}/keys"));
        self.wait(
            "!document.getElementById('key-make').hidden",
            "the key form",
        );
        self.fill("#k-pass", PASSPHRASE);
        self.fill("#k-pass2", PASSPHRASE);
        self.click("form[data-keygen] button");
        self.wait(
            "document.getElementById('my-public-key')?.textContent",
            "the new key",
        )
        .as_str()
        .unwrap()
        .to_owned()
    }

    /// Reads the member record from IndexedDB, as the page's script keeps it.
    fn key_record(&mut self, expression: &str) -> Value {
        self.eval(&format!(
            "new Promise((resolve, reject) => {{
                const open = indexedDB.open('commune', 1);
                open.onsuccess = () => {{
                    const get = open.result.transaction('keys').objectStore('keys').get('member');
                    get.onsuccess = async () => {{
                        try {{ const record = get.result; resolve(await ({expression})); }}
                        catch (e) {{ reject(e); }}
                    }};
                }};
                open.onerror = () => reject(open.error);
            }})"
        ))
    }

    /// Submits the form that `button` is in, waits for the page `path_prefix` to load.
    fn submit_and_wait(&mut self, button: &str, condition: &str, what: &str) -> Value {
        self.click(button);
        self.wait(condition, what)
    }
}

#[test]
fn two_members_found_invite_vote_and_close_in_real_browsers() {
    if !enabled() {
        eprintln!("skipped: COMMUNE_BROWSER_TESTS=0 switches the browser tests off");
        return;
    }
    let node = TestNode::new();
    let (_server, address) = node.serve();
    let base = format!("http://{address}");

    // Ana makes her key; it cannot be read back out of the browser.
    let mut ana = Browser::launch("ana");
    let ana_key = ana.make_key(&base);
    assert_eq!(ana_key.len(), 64);
    assert_eq!(
        ana.key_record("record.key.extractable"),
        json!(false),
        "the signing key is not extractable"
    );
    assert_eq!(
        ana.key_record(
            "crypto.subtle.exportKey('pkcs8', record.key).then(() => 'exported', () => 'refused')"
        ),
        json!("refused")
    );

    // Ana founds a council.
    ana.goto(&format!("{base}/"));
    ana.fill("#found-name", "Night shift committee");
    ana.fill("#found-you", "Ana");
    let path = ana.submit_and_wait(
        "form[action='/found'] button",
        "location.pathname.startsWith('/c/') && document.readyState === 'complete' && location.pathname",
        "the new council's page",
    );
    let council_page = format!("{base}{}", path.as_str().unwrap());
    assert_eq!(ana.text("h1"), "Night shift committee");
    assert!(ana.text("main").contains("You are a member."));

    // Ana makes an invitation link, signed in her browser.
    let link = ana.submit_and_wait(
        "form[data-invite] button",
        "document.getElementById('invite-link').value",
        "the invitation link",
    );
    let link = link.as_str().unwrap().to_owned();
    assert!(link.starts_with(&format!("{base}/join?invitation=commune-invite-")));

    // Bea, in another profile, makes her own key and joins by the link.
    let mut bea = Browser::launch("bea");
    let bea_key = bea.make_key(&base);
    assert_ne!(bea_key, ana_key);
    bea.goto(&link);
    assert_eq!(bea.text("h1"), "Join Night shift committee");
    bea.fill("#j-name", "Bea");
    bea.submit_and_wait(
        "form[action='/join'] button",
        &format!(
            "location.href === {} && document.readyState === 'complete'",
            serde_json::to_string(&council_page).unwrap()
        ),
        "the council's page after joining",
    );
    let members = bea.text("ul.members");
    assert!(
        members.contains("Ana") && members.contains("Bea"),
        "{members}"
    );

    // Ana opens a proposal decided by majority.
    ana.goto(&format!("{council_page}/new"));
    ana.fill("#p-title", "Ask for a second night nurse");
    ana.fill("#p-text", "Two of us cannot cover forty beds.");
    ana.click("input[name=method][value=majority]");
    let proposal_path = ana.submit_and_wait(
        "form[action$='/proposals'] button",
        "location.pathname.includes('/p/') && document.readyState === 'complete' && location.pathname",
        "the new proposal's page",
    );
    let proposal_page = format!("{base}{}", proposal_path.as_str().unwrap());
    assert_eq!(ana.text("h1"), "Ask for a second night nurse");

    // Both vote yes, each signing in their own browser.
    for browser in [&mut ana, &mut bea] {
        browser.goto(&proposal_page);
        browser.click("input[name=vote][value=yes]");
        browser.submit_and_wait(
            "form[action$='/ballot'] button",
            "document.querySelector('.yours')?.textContent.includes('yes')",
            "the ballot to be recorded",
        );
    }

    // Bea closes; Ana's page, left open, shows the result by itself (live update).
    ana.eval("window.stayedOnPage = true");
    bea.submit_and_wait(
        "form[action$='/close'] button",
        "document.querySelector('#live h2')?.textContent.startsWith('Result: passed')",
        "the result after closing",
    );
    ana.wait(
        "document.querySelector('#live h2')?.textContent.startsWith('Result: passed')",
        "the live result on the page that stayed open",
    );
    assert_eq!(
        ana.eval("window.stayedOnPage === true"),
        json!(true),
        "the page updated in place"
    );
    assert!(ana.text("#live").contains("Who voted (2 of 2)"));

    // Ana's browser is signed in by a session cookie the page's scripts cannot read.
    assert_eq!(
        ana.eval("document.cookie.includes('commune_session')"),
        json!(false),
        "the session cookie is HttpOnly"
    );
    assert_eq!(
        ana.eval("fetch('/session').then(r => r.json()).then(j => j.key)"),
        json!(ana_key)
    );

    // A second profile without the key, script off, learns the council's name and how to
    // ask to join: not the proposal, not its text, not who voted.
    let mut reader = Browser::launch("reader");
    reader.command(
        "Emulation.setScriptExecutionDisabled",
        json!({ "value": true }),
    );
    reader.goto(&council_page);
    assert_eq!(reader.text("h1"), "Night shift committee");
    let visitor = reader.text("main");
    assert!(visitor.contains("read by its members only"), "{visitor}");
    assert!(visitor.contains("invitation"), "{visitor}");
    assert!(
        !visitor.contains("Ask for a second night nurse"),
        "{visitor}"
    );
    assert!(!visitor.contains("Bea"), "{visitor}");
    reader.goto(&proposal_page);
    let refused = reader.text("main");
    assert!(refused.contains("read by its members only"), "{refused}");
    assert!(
        !refused.contains("Two of us cannot cover forty beds."),
        "{refused}"
    );
    // The script really is off: on the key page it would have replaced this line.
    reader.goto(&format!("{base}/keys"));
    assert!(reader.text("#key-status").contains("Looking for a key"));

    // Ana signs out on the key page: the node forgets her session, her pages show only the
    // council's name until she signs in again.
    ana.goto(&format!("{base}/keys"));
    ana.wait(
        "document.getElementById('session-status').textContent.startsWith('Signed in as')",
        "the session shown",
    );
    ana.click("[data-signout]");
    ana.wait(
        "document.getElementById('session-status').textContent === 'Not signed in.'",
        "signed out",
    );
    ana.goto(&council_page);
    assert!(ana.text("main").contains("read by its members only"));
    ana.goto(&format!("{base}/keys"));
    ana.wait(
        "document.getElementById('session-status').textContent === 'Not signed in.'",
        "still out after a reload",
    );
    ana.click("[data-signin]");
    ana.wait(
        "document.getElementById('session-status').textContent.startsWith('Signed in as')",
        "signed in again",
    );
    ana.goto(&council_page);
    assert!(ana.text("main").contains("You are a member."));

    // Bea, signed in, reads the result as plain HTML.
    bea.goto(&proposal_page);
    assert!(bea.text("#live h2").starts_with("Result: passed"));
    assert!(
        bea.text("main")
            .contains("Two of us cannot cover forty beds.")
    );

    // The node's own view agrees: the decision is in the log, signed by the members' keys.
    let council = council_page.rsplit('/').next().unwrap();
    let state = node.ok(&["council", "show", council]);
    let decided = &state["proposals"][0];
    assert_eq!(decided["passed"], true);
    assert!(state["members"].get(&ana_key).is_some());
    assert!(state["members"].get(&bea_key).is_some());
}

#[test]
fn a_key_moves_to_another_device_by_its_encrypted_backup() {
    if !enabled() {
        eprintln!("skipped: COMMUNE_BROWSER_TESTS=0 switches the browser tests off");
        return;
    }
    let node = TestNode::new();
    let (_server, address) = node.serve();
    let base = format!("http://{address}");
    let mut phone = Browser::launch("phone");
    let key = phone.make_key(&base);
    let backup = phone.key_record("JSON.stringify(record.backup)");
    let backup = backup.as_str().unwrap();
    let fields: Value = serde_json::from_str(backup).unwrap();
    assert_eq!(fields["public_key"], json!(key));
    assert_eq!(fields["kdf"], "PBKDF2-SHA-256");
    // An Ed25519 PKCS#8 document is 48 bytes; sealed, it has a 16-byte tag more.
    assert_eq!(
        fields["sealed_pkcs8"].as_str().unwrap().len(),
        2 * (48 + 16)
    );

    let mut laptop = Browser::launch("laptop");
    laptop.goto(&format!("{base}/keys"));
    laptop.fill("#r-text", backup);
    laptop.fill("#r-pass", "not the passphrase");
    laptop.submit_and_wait(
        "form[data-restore] button",
        "document.querySelector('form[data-restore] .status.error')?.textContent",
        "the refusal of a wrong passphrase",
    );
    assert!(
        laptop
            .text("form[data-restore] .status")
            .contains("does not open")
    );
    laptop.fill("#r-text", backup);
    laptop.fill("#r-pass", PASSPHRASE);
    let restored = laptop.submit_and_wait(
        "form[data-restore] button",
        "document.getElementById('my-public-key')?.textContent",
        "the restored key",
    );
    assert_eq!(restored, json!(key));
    assert_eq!(laptop.key_record("record.key.extractable"), json!(false));
}

/// A recall petition signed in the browser, in the script's two steps (the statement, then
/// the event that carries its signature): a member's one signature in three is the
/// constitution's quarter, and the page then shows the mandate suspended.
#[test]
fn a_recall_petition_is_signed_in_a_real_browser() {
    if !enabled() {
        eprintln!("skipped: COMMUNE_BROWSER_TESTS=0 switches the browser tests off");
        return;
    }
    let node = TestNode::new();
    node.ok(&["key", "new", "bob"]);
    let council = node.ok(&["council", "found", "Canteen", "--my-name", "Alice"])["council"]
        .as_str()
        .unwrap()
        .to_owned();
    let invitation = |node: &TestNode| {
        node.ok(&["invite", &council])["invitation"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    node.ok(&[
        "--as",
        "bob",
        "join",
        &invitation(&node),
        "--my-name",
        "bob",
    ]);
    let election = node.ok(&[
        "proposal",
        "open",
        &council,
        "Who runs the kitchen",
        "--elect",
        "bob",
        "--elect",
        "Alice",
        "--working-group",
        "kitchen",
        "--limit",
        "hours=10",
        "--term",
        "30d",
        "--open-for",
        "1m",
    ])["event"]
        .as_str()
        .unwrap()
        .to_owned();
    for who in ["me", "bob"] {
        node.ok(&["--as", who, "vote", &council, &election, "bob"]);
    }
    node.ok(&["close", &council, &election]);
    let link = invitation(&node);

    let (_server, address) = node.serve();
    let base = format!("http://{address}");
    let council_page = format!("{base}/c/{council}");
    let mut dan = Browser::launch("dan");
    dan.make_key(&base);
    dan.goto(&format!("{base}/join?invitation={link}"));
    dan.fill("#j-name", "Dan");
    dan.submit_and_wait(
        "form[action='/join'] button",
        &format!(
            "location.href === {} && document.readyState === 'complete'",
            serde_json::to_string(&council_page).unwrap()
        ),
        "the council's page after joining",
    );
    assert!(dan.text("main").contains("Who represents us"));
    assert!(!dan.text("main").contains("Suspended by a recall petition"));
    dan.click("form[action$='/petitions'] button");
    dan.wait(
        "document.readyState === 'complete' && document.querySelector('main')?.textContent.includes('Suspended by a recall petition')",
        "the mandate suspended by the petition",
    );
    let mandates = node.ok(&["mandate", "list", &council]);
    let (_, mandate) = mandates.as_object().unwrap().iter().next().unwrap();
    assert_eq!(mandate["status"]["status"], "suspended", "{mandates}");
}

impl Browser {
    /// Submits the form `button` is in and waits for the page it leads to (here, the same
    /// page loaded again).
    fn act_and_reload(&mut self, button: &str, what: &str) {
        self.eval("window.beforeAct = true");
        self.submit_and_wait(
            button,
            "window.beforeAct === undefined && document.readyState === 'complete'",
            what,
        );
    }
}

#[test]
fn a_member_posts_a_need_and_a_process_and_books_on_a_phone_sized_page() {
    if !enabled() {
        eprintln!("skipped: COMMUNE_BROWSER_TESTS=0 switches the browser tests off");
        return;
    }
    let node = TestNode::new();
    let (_server, address) = node.serve();
    let base = format!("http://{address}");
    let mut ana = Browser::launch("ana-register");
    ana.make_key(&base);
    ana.goto(&format!("{base}/"));
    ana.fill("#found-name", "Mutual aid kitchen");
    ana.fill("#found-you", "Ana");
    let path = ana.submit_and_wait(
        "form[action='/found'] button",
        "location.pathname.startsWith('/c/') && document.readyState === 'complete' && location.pathname",
        "the new council's page",
    );
    let page = format!("{base}{}/register", path.as_str().unwrap());
    ana.goto(&page);

    for (name, unit) in [
        ("cargo bike", "bike"),
        ("rice", "kg"),
        ("meal", "portion"),
        ("broth", "l"),
    ] {
        ana.fill("#item-name", name);
        ana.fill("#item-unit", unit);
        ana.act_and_reload("form[action$='/items'] button", "a catalogue item");
    }
    ana.fill("#resource-name", "blue bike");
    ana.fill("#resource-item", "cargo bike");
    ana.fill("#resource-place", "Hall");
    ana.act_and_reload(
        "form[action$='/resources'] button",
        "the bike in the commons",
    );

    // A need in four fields: what, how much, how urgent; the rest has sane defaults.
    ana.fill("#need-item", "rice");
    ana.fill("#need-quantity", "2.5");
    ana.click("input[name=urgency][value=vital]");
    ana.act_and_reload("form[action$='/needs'] button", "the need");
    let main = ana.text("main");
    assert!(main.contains("2.5 kg of rice at Hall"), "{main}");
    assert!(main.contains("rice at Hall (vital): 0 of 2.5 kg"), "{main}");
    assert_eq!(
        ana.eval("document.documentElement.scrollWidth <= window.innerWidth"),
        json!(true),
        "nothing is wider than a 360-pixel phone"
    );

    // A process of two outputs, one line each, with two skills and the bike as equipment.
    ana.fill("#process-name", "Cook");
    ana.fill("#process-outputs", "meal 4\nbroth 1.5");
    ana.fill("#process-inputs", "rice lots");
    ana.fill("#process-labour", "cooking 1\ncleaning 0.25");
    ana.fill("#process-equipment", "blue bike 0.5");
    // A bad line is named, and what Ana typed stays for her to mend.
    ana.click("form[action$='/processes'] button");
    let refusal = ana.wait(
        "document.querySelector('form[action$=\"/processes\"] .status.error')?.textContent",
        "the refusal of a bad line",
    );
    assert!(
        refusal
            .as_str()
            .unwrap()
            .contains("“Uses”, line 1 (“rice lots”)"),
        "{refusal}"
    );
    assert_eq!(
        ana.eval("document.querySelector('#process-outputs').value"),
        json!("meal 4\nbroth 1.5")
    );
    ana.fill("#process-inputs", "rice 0.5");
    ana.act_and_reload("form[action$='/processes'] button", "the process");
    let main = ana.text("main");
    assert!(
        main.contains(
            "Cook at Hall: makes 4 portion of meal, 1.5 l of broth; uses 0.5 kg of rice; \
             work 1 hour(s) of cooking, 0.25 hour(s) of cleaning; equipment 0.5 hour(s) of blue bike"
        ),
        "{main}"
    );
    ana.eval("document.querySelectorAll('details').forEach(d => d.open = true); true");
    assert_eq!(
        ana.eval("document.documentElement.scrollWidth <= window.innerWidth"),
        json!(true),
        "every form, opened, fits a 360-pixel phone"
    );

    // The bike for two hours from an hour from now; the same slot again is refused, and
    // the page says why.
    ana.act_and_reload("form[action$='/bookings'] button", "the booking");
    assert!(ana.text("main").contains("Booked by Ana"));
    ana.click("form[action$='/bookings'] button");
    let refusal = ana.wait(
        "document.querySelector('form[action$=\"/bookings\"] .status.error')?.textContent",
        "the refusal of an overlapping booking",
    );
    assert!(
        refusal.as_str().unwrap().contains("overlaps booking"),
        "{refusal}"
    );
}

/// A browser's backup imports into the CLI (`commune key import`), and a key exported by the
/// CLI (`commune key export`) restores in a browser: one format both ways.
#[test]
fn a_key_backup_moves_between_the_browser_and_the_command_line() {
    if !enabled() {
        eprintln!("browser tests skipped: set COMMUNE_BROWSER_TESTS=1 (as .ci/run does)");
        return;
    }
    let node = TestNode::new();
    let (_server, address) = node.serve();
    let base = format!("http://{address}");
    let passphrase = node.dir.path().join("passphrase");
    std::fs::write(&passphrase, PASSPHRASE).unwrap();
    let passphrase = passphrase.to_str().unwrap();

    let mut phone = Browser::launch("phone");
    let key = phone.make_key(&base);
    let backup = phone.key_record("JSON.stringify(record.backup)");
    let from_browser = node.dir.path().join("phone.json");
    std::fs::write(&from_browser, backup.as_str().unwrap()).unwrap();
    let imported = node.ok(&[
        "key",
        "import",
        "phone",
        from_browser.to_str().unwrap(),
        "--passphrase-file",
        passphrase,
    ]);
    assert_eq!(imported["public_key"], json!(key));

    let me = node.ok(&["whoami"])["public_key"].clone();
    let from_cli = node.dir.path().join("me.json");
    node.ok(&[
        "key",
        "export",
        "me",
        "-o",
        from_cli.to_str().unwrap(),
        "--passphrase-file",
        passphrase,
    ]);
    let mut laptop = Browser::launch("laptop");
    laptop.goto(&format!("{base}/keys"));
    laptop.fill("#r-text", &std::fs::read_to_string(&from_cli).unwrap());
    laptop.fill("#r-pass", PASSPHRASE);
    let restored = laptop.submit_and_wait(
        "form[data-restore] button",
        "document.getElementById('my-public-key')?.textContent",
        "the restored key",
    );
    assert_eq!(restored, me);
}
