//! `commune bench-web`: the web page load benchmark of DESIGN.md §11.
//!
//! Builds a node whose council has 10,000 members, 1,000 proposals and a 1,000-comment
//! thread (by default), serves it on loopback in this process, and measures with a plain
//! HTTP/1.1 keep-alive client (one thread per connection): the proposal page of the thread
//! under 200 concurrent readers, casting ballots the way the signing script does (draft, sign,
//! submit), and the page again while ballots are being cast. Not a test: figures go to
//! docs/benchmarks.md.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::Args;
use commune_core::constitution::Constitution;
use commune_core::invite::Invitation;
use commune_core::payload::{self, Action, Payload};
use commune_core::tally::{Choice, Method, YesNo};
use commune_core::{CouncilId, Event, EventId, Keypair, ParentInfo, Unsigned};
use serde::Serialize;

use crate::cli::Invocation;
use crate::node::{DEFAULT_IDENTITY, Node, draft_found, open_store};

#[derive(Debug, Args)]
pub struct BenchWebArgs {
    /// Members of the council
    #[arg(long, default_value_t = 10_000)]
    pub members: usize,
    /// Proposals (the first is the discussed one)
    #[arg(long, default_value_t = 1_000)]
    pub proposals: usize,
    /// Comments in the first proposal's thread
    #[arg(long, default_value_t = 1_000)]
    pub comments: usize,
    /// Concurrent readers (connections)
    #[arg(long, default_value_t = 200)]
    pub readers: usize,
    /// Page requests in each reading phase
    #[arg(long, default_value_t = 10_000)]
    pub reads: usize,
    /// Ballots to cast
    #[arg(long, default_value_t = 200)]
    pub ballots: usize,
    /// Members casting ballots at once
    #[arg(long, default_value_t = 4)]
    pub voters: usize,
}

/// Latency and throughput of one phase.
#[derive(Debug, Serialize)]
struct Load {
    requests: usize,
    concurrency: usize,
    per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// Ballots drafted on heads that moved before they were submitted, and so drafted again.
    retries: usize,
}

#[derive(Debug, Serialize)]
struct Figures {
    members: usize,
    proposals: usize,
    comments: usize,
    events: usize,
    page_bytes: usize,
    generate_s: f64,
    first_fold_s: f64,
    page: Load,
    ballots: Load,
    page_while_voting: Load,
}

pub fn run(invocation: &Invocation, args: BenchWebArgs) -> Result<()> {
    ensure!(
        args.members >= 2,
        "the benchmark needs at least two members"
    );
    ensure!(
        args.proposals >= 1,
        "the benchmark needs at least one proposal"
    );
    ensure!(
        args.ballots < args.members && args.voters >= 1 && args.readers >= 1,
        "cast fewer ballots than there are members, with at least one voter and one reader"
    );
    let started = Instant::now();
    let keys: Vec<Keypair> = (0..args.members).map(crate::bench::member_key).collect();
    let (log, thread) = generate(&keys, &args)?;
    let generate_s = started.elapsed().as_secs_f64();
    let events = log.len();
    let council = log[0].council();

    let temporary = tempfile::TempDir::new()?;
    let dir = temporary.path().join("node");
    // In the SQLite file of a fresh data directory, or in the store --store names.
    drop(Node::init(
        &dir,
        invocation.store.as_deref(),
        DEFAULT_IDENTITY,
    )?);
    let mut store = open_store(&dir, None)?;
    ensure!(
        store.councils()?.is_empty(),
        "the store {} already holds councils: the benchmark needs an empty one",
        store.location()
    );
    for chunk in log.chunks(4096) {
        let report = store.append(chunk)?;
        ensure!(
            report.inserted.len() == chunk.len(),
            "events were not stored"
        );
    }
    drop(store);
    drop(log);
    let mut node = Node::open(&dir)?;
    let started = Instant::now();
    let folded = node.fold(council)?;
    let first_fold_s = started.elapsed().as_secs_f64();
    ensure!(
        folded.rejections.is_empty(),
        "the generated log has rejections: {:?}",
        folded.rejections.first()
    );
    drop(folded);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let address = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let node = std::sync::Arc::new(std::sync::Mutex::new(node));
    let server = runtime.spawn(
        axum::serve(listener, crate::server::router(node))
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .into_future(),
    );

    let page = format!("/c/{council}/p/{thread}");
    let (status, body) = Client::connect(address)?.send("GET", &page, None)?;
    ensure!(status == 200, "the proposal page answered {status}");
    let page_bytes = body.len();

    let read = |count| read_load(address, &page, args.readers, count);
    let page_load = read(args.reads)?;
    let ballots = cast_load(
        address,
        council,
        thread,
        &keys,
        0..args.ballots / 2,
        args.voters,
    )?;
    // The page again while the other half of the ballots is cast.
    let (page_while_voting, _) = std::thread::scope(|scope| -> Result<(Load, Load)> {
        let voting = scope.spawn(|| {
            cast_load(
                address,
                council,
                thread,
                &keys,
                args.ballots / 2..args.ballots,
                args.voters,
            )
        });
        let reading = read(args.reads / 2)?;
        let voted = voting.join().expect("the voters do not panic")?;
        Ok((reading, voted))
    })?;

    let _ = stop.send(());
    runtime.block_on(server)??;

    let figures = Figures {
        members: args.members,
        proposals: args.proposals,
        comments: args.comments,
        events,
        page_bytes,
        generate_s,
        first_fold_s,
        page: page_load,
        ballots,
        page_while_voting,
    };
    invocation.print(&figures, || {
        let line = |what: &str, load: &Load| {
            format!(
                "{what:<24} {:>6} requests, {:>3} at once: {:>7.0}/s, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms{}",
                load.requests,
                load.concurrency,
                load.per_s,
                load.p50_ms,
                load.p99_ms,
                load.max_ms,
                if load.retries > 0 {
                    format!(" ({} redrafted)", load.retries)
                } else {
                    String::new()
                }
            )
        };
        format!(
            "council: {} members, {} proposals, a {}-comment thread, {} events\n\
             generate {:.1} s, first fold {:.2} s, proposal page {} bytes\n{}\n{}\n{}",
            figures.members,
            figures.proposals,
            figures.comments,
            figures.events,
            figures.generate_s,
            figures.first_fold_s,
            figures.page_bytes,
            line("proposal page", &figures.page),
            line("casting a ballot", &figures.ballots),
            line("page while voting", &figures.page_while_voting),
        )
    })
}

/// The council's log: founding, every member joining by invitation, the proposals, then
/// the comments on the first proposal, each event on the one before. Returns the log and
/// the first proposal's id.
fn generate(keys: &[Keypair], args: &BenchWebArgs) -> Result<(Vec<Event>, EventId)> {
    const NAME: &str = "Benchmark assembly";
    let mut time = 1_700_000_000_000u64;
    let genesis = draft_found(
        keys[0].public(),
        NAME,
        "member 0",
        // The benchmark measures pages as anyone reads them: its council is public.
        Constitution {
            reading: Some(commune_core::constitution::Reading::Public),
            ..Constitution::default()
        },
        time,
    )?
    .sign(&keys[0]);
    let council = genesis.council();
    let mut chain = Chain {
        council,
        head: genesis.parent_info(),
        seqs: vec![0; keys.len()],
        log: vec![genesis],
    };
    chain.seqs[0] = 1;
    for (member, key) in keys.iter().enumerate().skip(1) {
        time += 1;
        let mut nonce = [0u8; 16];
        nonce[..8].copy_from_slice(&(member as u64).to_le_bytes());
        let invitation = Invitation::new(council, NAME.into(), &keys[0], nonce, u64::MAX);
        let join = Payload::Join(payload::Join {
            name: format!("member {member}"),
            invitation: Some(invitation),
        });
        chain.push(key, member, time, &join);
    }
    let mut thread = None;
    for n in 0..args.proposals {
        time += 1;
        let proposer = n % keys.len();
        let propose = Payload::Propose(payload::Propose {
            title: format!("Question {n}: shall we do thing number {n}?"),
            text: "A paragraph of reasons, as people write them. ".repeat(8),
            action: Action::None,
            method: Some(Method::Majority),
            options: Vec::new(),
            quorum: None,
            deadline_ms: u64::MAX / 2,
            mode: None,
        });
        let id = chain.push(&keys[proposer], proposer, time, &propose);
        thread.get_or_insert(id);
    }
    let thread = thread.expect("at least one proposal");
    for n in 0..args.comments {
        time += 1;
        let author = (n * 7 + 1) % keys.len();
        let comment = Payload::Comment(payload::Comment {
            proposal: thread,
            reply_to: None,
            text: format!("Comment {n}: I think we should look at this from another side first."),
        });
        chain.push(&keys[author], author, time, &comment);
    }
    Ok((chain.log, thread))
}

/// A log where each event builds on the one before.
struct Chain {
    council: CouncilId,
    head: ParentInfo,
    seqs: Vec<u64>,
    log: Vec<Event>,
}

impl Chain {
    fn push(&mut self, key: &Keypair, who: usize, time: u64, payload: &Payload) -> EventId {
        self.seqs[who] += 1;
        let event = Unsigned::compose(
            self.council,
            key.public(),
            self.seqs[who],
            std::slice::from_ref(&self.head),
            time,
            payload.kind(),
            payload.encode(),
        )
        .sign(key);
        self.head = event.parent_info();
        let id = event.id;
        self.log.push(event);
        id
    }
}

/// `readers` connections read `page` until `count` requests are done.
fn read_load(address: SocketAddr, page: &str, readers: usize, count: usize) -> Result<Load> {
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let latencies = std::thread::scope(|scope| -> Result<Vec<Duration>> {
        let workers: Vec<_> = (0..readers)
            .map(|_| {
                scope.spawn(|| -> Result<Vec<Duration>> {
                    let mut client = Client::connect(address)?;
                    let mut latencies = Vec::new();
                    while next.fetch_add(1, Ordering::Relaxed) < count {
                        let began = Instant::now();
                        let (status, _) = client.send("GET", page, None)?;
                        ensure!(status == 200, "the page answered {status}");
                        latencies.push(began.elapsed());
                    }
                    Ok(latencies)
                })
            })
            .collect();
        let mut all = Vec::new();
        for worker in workers {
            all.extend(worker.join().expect("a reader does not panic")?);
        }
        Ok(all)
    })?;
    Ok(summarise(latencies, readers, started.elapsed(), 0))
}

/// `voters` members at once cast one yes ballot each for the members in `range`, as the
/// signing script does: draft, sign, submit (and draft again if the heads moved).
fn cast_load(
    address: SocketAddr,
    council: CouncilId,
    proposal: EventId,
    keys: &[Keypair],
    range: std::ops::Range<usize>,
    voters: usize,
) -> Result<Load> {
    let next = AtomicUsize::new(range.start);
    let retries = AtomicUsize::new(0);
    let payload = serde_json::to_value(Payload::Ballot(payload::Ballot {
        proposal,
        choice: Choice::YesNo { vote: YesNo::Yes },
    }))?;
    let started = Instant::now();
    let latencies = std::thread::scope(|scope| -> Result<Vec<Duration>> {
        let workers: Vec<_> = (0..voters)
            .map(|_| {
                scope.spawn(|| -> Result<Vec<Duration>> {
                    let mut client = Client::connect(address)?;
                    let mut latencies = Vec::new();
                    loop {
                        let member = next.fetch_add(1, Ordering::Relaxed);
                        if member >= range.end {
                            return Ok(latencies);
                        }
                        let key = &keys[member];
                        let request =
                            serde_json::json!({ "author": key.public(), "payload": payload })
                                .to_string();
                        let began = Instant::now();
                        loop {
                            let (status, draft) = client.send(
                                "POST",
                                &format!("/api/councils/{council}/drafts"),
                                Some(&request),
                            )?;
                            ensure!(status == 200, "a draft answered {status}");
                            let draft: serde_json::Value = serde_json::from_slice(&draft)?;
                            let message = data_encoding::HEXLOWER.decode(
                                draft["signing_message"]
                                    .as_str()
                                    .context("a draft without a signing message")?
                                    .as_bytes(),
                            )?;
                            let event = super::assemble_event(&message, &key.sign(&message));
                            let body = serde_json::json!({
                                "event": data_encoding::HEXLOWER.encode(&event)
                            })
                            .to_string();
                            let (status, answer) =
                                client.send("POST", "/api/events", Some(&body))?;
                            match status {
                                201 => break,
                                409 if asks_to_redraft(&answer) => {
                                    retries.fetch_add(1, Ordering::Relaxed);
                                }
                                _ => bail!(
                                    "a ballot answered {status}: {}",
                                    String::from_utf8_lossy(&answer)
                                ),
                            }
                        }
                        latencies.push(began.elapsed());
                    }
                })
            })
            .collect();
        let mut all = Vec::new();
        for worker in workers {
            all.extend(worker.join().expect("a voter does not panic")?);
        }
        Ok(all)
    })?;
    Ok(summarise(
        latencies,
        voters,
        started.elapsed(),
        retries.into_inner(),
    ))
}

/// Whether a refusal asks for the event to be drafted again (the heads moved).
fn asks_to_redraft(answer: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(answer)
        .is_ok_and(|answer| answer["redraft"] == true)
}

fn summarise(
    mut latencies: Vec<Duration>,
    concurrency: usize,
    elapsed: Duration,
    retries: usize,
) -> Load {
    latencies.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |share: f64| {
        latencies
            .get(((latencies.len() as f64 * share) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| ms(*d))
    };
    Load {
        requests: latencies.len(),
        concurrency,
        per_s: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        max_ms: latencies.last().map_or(0.0, |d| ms(*d)),
        retries,
    }
}

/// A minimal HTTP/1.1 keep-alive client: enough for the node's own answers, which always
/// carry a content length.
struct Client {
    stream: BufReader<TcpStream>,
}

impl Client {
    fn connect(address: SocketAddr) -> Result<Client> {
        let stream = TcpStream::connect(address)?;
        stream.set_nodelay(true)?;
        Ok(Client {
            stream: BufReader::new(stream),
        })
    }

    fn send(&mut self, method: &str, path: &str, body: Option<&str>) -> Result<(u16, Vec<u8>)> {
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: bench\r\n");
        if let Some(body) = body {
            request.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ));
        } else {
            request.push_str("\r\n");
        }
        self.stream.get_mut().write_all(request.as_bytes())?;
        let mut line = String::new();
        self.stream.read_line(&mut line)?;
        let status: u16 = line
            .get(9..12)
            .and_then(|code| code.parse().ok())
            .with_context(|| format!("not an HTTP answer: {line:?}"))?;
        let mut length = None;
        loop {
            line.clear();
            self.stream.read_line(&mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = Some(value.trim().parse::<usize>()?);
            }
        }
        let mut body = vec![0; length.context("an answer without a content length")?];
        self.stream.read_exact(&mut body)?;
        Ok((status, body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The benchmark runs end to end at a small size (its figures are not checked here).
    #[test]
    fn a_small_web_benchmark_runs() {
        let dir = tempfile::TempDir::new().unwrap();
        let invocation = Invocation {
            dir: dir.path().to_owned(),
            store: None,
            identity: DEFAULT_IDENTITY.into(),
            json: true,
        };
        let args = BenchWebArgs {
            members: 30,
            proposals: 3,
            comments: 10,
            readers: 4,
            reads: 40,
            ballots: 8,
            voters: 2,
        };
        run(&invocation, args).unwrap();
    }
}
