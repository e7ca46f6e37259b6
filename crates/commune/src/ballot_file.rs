//! Ballot files: PrefLib, BLT and commune JSON read into a profile (or a list of choices),
//! and a decided proposal's ballots written as BLT or PrefLib for recounting elsewhere.
//!
//! Owns the file formats (docs/cli.md describes them) and their errors, which name the file
//! and line. Must not count anything: counting is `commune_core::methods`. The readers are
//! pure functions of the text, but they live here rather than in the core because they read
//! files as they stream (line by line, or ballot by ballot in JSON: a million ballots are
//! never held as text) and because only the binary knows files and JSON input.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::BufRead;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use commune_core::methods::{MAX_TOTAL_WEIGHT, Profile};
use commune_core::tally::{Availability, Choice, MAX_OPTIONS, Position, YesNo};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// The formats `commune tally` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// PrefLib: .soc, .soi, .toc, .toi (orders with ties and partial orders)
    Preflib,
    /// BLT, the ballot format of OpenSTV, Droop and most STV counters
    Blt,
    /// commune's own JSON (docs/cli.md), for every method
    Json,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Preflib => "preflib",
            Format::Blt => "blt",
            Format::Json => "json",
        }
    }
}

/// What a ballot file holds.
#[derive(Debug)]
pub struct BallotFile {
    pub format: Format,
    pub title: String,
    /// Seats, when the file says (BLT, JSON).
    pub seats: Option<u32>,
    /// The candidates, the withdrawn ones, and every ranked ballot.
    pub profile: Profile,
    /// Ballots of the methods that do not rank (JSON only), with their counts.
    pub choices: Vec<(u64, Choice)>,
}

/// Reads a ballot file (`-`: standard input), in `format` or the one its extension or first
/// line shows.
pub fn read(path: &Path, format: Option<Format>) -> Result<BallotFile> {
    if path == Path::new("-") {
        return read_from(std::io::stdin().lock(), "standard input", format);
    }
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let reader = std::io::BufReader::new(file);
    read_from(
        reader,
        &path.display().to_string(),
        format.or_else(|| by_extension(path)),
    )
}

/// Reads a ballot file from `reader` (`name` for messages); the fuzz target `ballot_file` calls it.
pub fn read_from(
    mut reader: impl BufRead,
    name: &str,
    format: Option<Format>,
) -> Result<BallotFile> {
    let format = match format {
        Some(format) => format,
        None => by_content(
            reader
                .fill_buf()
                .with_context(|| format!("cannot read {name}"))?,
        )?,
    };
    let mut lines = Lines {
        reader,
        line: String::new(),
        number: 0,
    };
    let result = match format {
        Format::Preflib => preflib(&mut lines),
        Format::Blt => blt(&mut lines),
        Format::Json => json(&mut lines.reader),
    };
    result.with_context(|| match format {
        Format::Json => name.to_owned(),
        _ => format!("{name}:{}", lines.number),
    })
}

fn by_extension(path: &Path) -> Option<Format> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "soc" | "soi" | "toc" | "toi" => Some(Format::Preflib),
        "blt" => Some(Format::Blt),
        "json" => Some(Format::Json),
        _ => None,
    }
}

fn by_content(start: &[u8]) -> Result<Format> {
    let text = String::from_utf8_lossy(start);
    let text = text.trim_start();
    let first = text.lines().next().unwrap_or("");
    if text.starts_with('{') {
        Ok(Format::Json)
    } else if text.starts_with('#') || first.split_whitespace().count() == 1 {
        Ok(Format::Preflib)
    } else if first.split_whitespace().count() == 2 {
        Ok(Format::Blt)
    } else {
        bail!(
            "cannot tell the format from the file: name it .soc, .soi, .toc, .toi, .blt or .json, or give --format"
        )
    }
}

/// A line reader that keeps one reused buffer and the current line number.
struct Lines<R> {
    reader: R,
    line: String,
    number: usize,
}

impl<R: BufRead> Lines<R> {
    /// The next line without its end, or `None` at the end of the file.
    fn next(&mut self) -> Result<Option<&str>> {
        self.line.clear();
        if self.reader.read_line(&mut self.line)? == 0 {
            return Ok(None);
        }
        self.number += 1;
        Ok(Some(self.line.trim_end_matches(['\n', '\r'])))
    }

    /// The next line with anything outside a `#` comment, without the comment and trimmed
    /// (BLT's numeric lines).
    fn next_data(&mut self) -> Result<Option<&str>> {
        loop {
            if self.next()?.is_none() {
                return Ok(None);
            }
            let data = &self.line[..self.line.find('#').unwrap_or(self.line.len())];
            let start = data.len() - data.trim_start().len();
            let end = data.trim_end().len();
            if start < end {
                return Ok(Some(&self.line[start..end]));
            }
        }
    }

    /// The next line that is not blank.
    fn next_filled(&mut self) -> Result<Option<&str>> {
        loop {
            if self.next()?.is_none() {
                return Ok(None);
            }
            if !self.line.trim().is_empty() {
                return Ok(Some(self.line.trim()));
            }
        }
    }
}

/// A ranking being read: candidate indexes (from 0) and where each group starts.
#[derive(Default)]
struct Order {
    candidates: Vec<u32>,
    starts: Vec<usize>,
}

impl Order {
    fn clear(&mut self) {
        self.candidates.clear();
        self.starts.clear();
    }

    fn group(&mut self) {
        self.starts.push(self.candidates.len());
    }

    /// Adds a 1-based candidate number to the current group.
    fn add(&mut self, text: &str, n: usize) -> Result<()> {
        // By hand rather than `str::parse`: this runs once per mark of every ballot.
        let digits = text.trim().as_bytes();
        let number =
            (!digits.is_empty() && digits.len() < 10 && digits.iter().all(u8::is_ascii_digit))
                .then(|| digits.iter().fold(0, |n, d| n * 10 + usize::from(d - b'0')))
                .ok_or_else(|| anyhow!("{:?} is not a candidate number", text.trim()))?;
        if number == 0 || number > n {
            bail!("candidate {number} does not exist: there are {n}");
        }
        self.candidates.push(number as u32 - 1);
        Ok(())
    }

    fn push_to(&self, profile: &mut Profile, weight: u64) -> Result<()> {
        // A ballot with no marks (a BLT line `2 0`) has no groups at all.
        let ends = self
            .starts
            .get(1..)
            .unwrap_or_default()
            .iter()
            .copied()
            .chain([self.candidates.len()]);
        let groups = self
            .starts
            .iter()
            .zip(ends)
            .map(|(&start, end)| self.candidates[start..end].iter().copied());
        profile.push(weight, groups).map_err(|e| anyhow!(e))
    }
}

/// PrefLib, current format (`# KEY: value` header, `count: 1,{2,3},4` lines) or the older one
/// (a count of alternatives, `i,name` lines, a totals line, then `count,1,{2,3},4`).
fn preflib(lines: &mut Lines<impl BufRead>) -> Result<BallotFile> {
    let mut title = String::new();
    let mut alternatives: Option<usize> = None;
    let mut names: BTreeMap<usize, String> = BTreeMap::new();
    let mut profile: Option<Profile> = None;
    let mut order = Order::default();
    let mut old_header: Option<usize> = None;
    while let Some(line) = lines.next_filled()? {
        if let Some(meta) = line.strip_prefix('#') {
            if profile.is_some() {
                bail!("a header line after the first order");
            }
            let Some((key, value)) = meta.split_once(':') else {
                continue;
            };
            let (key, value) = (key.trim().to_ascii_uppercase(), value.trim());
            if key == "TITLE" {
                title = value.to_owned();
            } else if key == "NUMBER ALTERNATIVES" {
                alternatives =
                    Some(bounded(value.parse().map_err(|_| {
                        anyhow!("NUMBER ALTERNATIVES is not a number: {value:?}")
                    })?)?);
            } else if let Some(i) = key.strip_prefix("ALTERNATIVE NAME ") {
                let i: usize = i
                    .trim()
                    .parse()
                    .map_err(|_| anyhow!("a bad alternative number: {i:?}"))?;
                names.insert(i, value.to_owned());
            }
            continue;
        }
        if profile.is_none() && alternatives.is_none() {
            // The older format: the number of alternatives, then one `i,name` line each.
            let n = bounded(line.parse().map_err(|_| {
                anyhow!(
                    "expected a `# KEY: value` header or the number of alternatives, found {line:?}"
                )
            })?)?;
            alternatives = Some(n);
            old_header = Some(n + 1);
            continue;
        }
        if let Some(left) = old_header.as_mut() {
            if *left > 1 {
                let (i, name) = line
                    .split_once(',')
                    .ok_or_else(|| anyhow!("expected `number,name`, found {line:?}"))?;
                let i: usize = i
                    .trim()
                    .parse()
                    .map_err(|_| anyhow!("a bad alternative number: {i:?}"))?;
                names.insert(i, name.trim().to_owned());
            }
            // The last header line holds voter totals, which the orders repeat.
            *left -= 1;
            if *left == 0 {
                old_header = None;
            }
            continue;
        }
        let n =
            alternatives.ok_or_else(|| anyhow!("the header does not give NUMBER ALTERNATIVES"))?;
        let profile = profile.get_or_insert_with(|| named(n, &names));
        let (count, rest) = line
            .split_once(':')
            .or_else(|| line.split_once(','))
            .ok_or_else(|| anyhow!("expected `count: order`, found {line:?}"))?;
        let count: u64 = count
            .trim()
            .parse()
            .map_err(|_| anyhow!("{:?} is not a count", count.trim()))?;
        order.clear();
        let mut in_tie = false;
        for piece in rest.split(',') {
            let mut piece = piece.trim();
            if let Some(after) = piece.strip_prefix('{') {
                if in_tie {
                    bail!("a tie opened inside a tie");
                }
                in_tie = true;
                order.group();
                piece = after.trim();
            } else if !in_tie {
                order.group();
            }
            let closes = piece.ends_with('}');
            let piece = piece.trim_end_matches('}').trim();
            if closes && !in_tie {
                bail!("a tie closed that was not opened");
            }
            if !piece.is_empty() {
                order.add(piece, n)?;
            } else if !closes {
                bail!("an empty place in the order");
            }
            if closes {
                in_tie = false;
            }
        }
        if in_tie {
            bail!("a tie is not closed");
        }
        order.push_to(profile, count)?;
    }
    let profile = match profile {
        Some(profile) => profile,
        None => named(
            alternatives.ok_or_else(|| anyhow!("no header and no orders"))?,
            &names,
        ),
    };
    Ok(BallotFile {
        format: Format::Preflib,
        title,
        seats: None,
        profile,
        choices: Vec::new(),
    })
}

/// A number of candidates, refused above what any ranked method counts (before anything is
/// allocated for them).
fn bounded(n: usize) -> Result<usize> {
    if n > MAX_OPTIONS {
        bail!("{n} candidates: the ranked methods count at most {MAX_OPTIONS}");
    }
    Ok(n)
}

/// An empty profile of `n` alternatives named by `names` (1-based), or by their numbers.
fn named(n: usize, names: &BTreeMap<usize, String>) -> Profile {
    Profile::new(
        (1..=n)
            .map(|i| names.get(&i).cloned().unwrap_or_else(|| i.to_string()))
            .collect(),
    )
}

/// BLT: `candidates seats`, an optional line of withdrawn candidates as negative numbers,
/// ballot lines `weight c1 c2=c3 … 0`, a line `0`, one quoted name per candidate, a quoted
/// title. `#` starts a comment on the numeric lines.
fn blt(lines: &mut Lines<impl BufRead>) -> Result<BallotFile> {
    let header: Vec<&str> = lines
        .next_data()?
        .ok_or_else(|| anyhow!("the file is empty"))?
        .split_whitespace()
        .collect();
    let [n, seats] = header.as_slice() else {
        bail!("the first line is `candidates seats`, found {header:?}");
    };
    let n = bounded(
        n.parse()
            .map_err(|_| anyhow!("{n:?} is not a number of candidates"))?,
    )?;
    let seats: u32 = seats
        .parse()
        .map_err(|_| anyhow!("{seats:?} is not a number of seats"))?;
    let mut withdrawn = Vec::new();
    let mut order = Order::default();
    let mut first = true;
    let mut profile = Profile::new((1..=n).map(|i| i.to_string()).collect());
    loop {
        let line = lines
            .next_data()?
            .ok_or_else(|| anyhow!("the ballots do not end with a line `0`"))?;
        if first && line.starts_with('-') {
            first = false;
            for token in line.split_whitespace() {
                let number: usize = token
                    .strip_prefix('-')
                    .and_then(|t| t.parse().ok())
                    .filter(|&i| (1..=n).contains(&i))
                    .ok_or_else(|| {
                        anyhow!(
                            "a withdrawn candidate is a negative candidate number, found {token:?}"
                        )
                    })?;
                withdrawn.push(number - 1);
            }
            continue;
        }
        first = false;
        if line == "0" {
            break;
        }
        let mut tokens = line.split_whitespace().peekable();
        if tokens.peek().is_some_and(|t| t.starts_with('(')) {
            tokens.next();
        }
        let weight: u64 = tokens
            .next()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| anyhow!("a ballot line starts with a whole-number weight: {line:?}"))?;
        order.clear();
        let mut ended = false;
        for token in tokens {
            if ended {
                bail!("a ballot line ends at its 0: {line:?}");
            }
            if token == "0" {
                ended = true;
                continue;
            }
            if token == "-" {
                continue;
            }
            order.group();
            for candidate in token.split('=') {
                order.add(candidate, n)?;
            }
        }
        if !ended {
            bail!("a ballot line ends with 0: {line:?}");
        }
        order.push_to(&mut profile, weight)?;
    }
    let mut names = Vec::with_capacity(n);
    for _ in 0..n {
        let line = lines
            .next_filled()?
            .ok_or_else(|| anyhow!("{n} candidate names are expected after the ballots"))?;
        names.push(unquote(line));
    }
    let title = lines.next_filled()?.map(unquote).unwrap_or_default();
    profile.candidates = names;
    for c in withdrawn {
        profile.withdrawn[c] = true;
    }
    Ok(BallotFile {
        format: Format::Blt,
        title,
        seats: Some(seats),
        profile,
        choices: Vec::new(),
    })
}

/// A BLT name or title: the text between its outer quotes, where a doubled quote stands for
/// one (`"Ian BROWN ""SNP"""` is `Ian BROWN "SNP"`, as the Scottish councils' files write
/// it); a line without outer quotes is taken as it is.
fn unquote(line: &str) -> String {
    let line = line.trim();
    match line.strip_prefix('"').and_then(|l| l.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => line.to_owned(),
    }
}

/// One ballot of commune's ballot JSON (docs/cli.md).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonBallot {
    #[serde(default = "one")]
    count: u64,
    ranking: Option<Vec<Rank>>,
    approve: Option<Vec<String>>,
    scores: Option<BTreeMap<String, u32>>,
    answers: Option<BTreeMap<String, Availability>>,
    vote: Option<YesNo>,
    position: Option<Position>,
    #[serde(default)]
    reason: String,
}

fn one() -> u64 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Rank {
    One(String),
    Tied(Vec<String>),
}

/// Reads commune's ballot JSON as it streams: each ballot is checked and added to the profile
/// (or the choices) as soon as it is read, so a large file is never held whole, and an error
/// names the line where it was found. `candidates` must come before `ballots`.
fn json(reader: &mut impl BufRead) -> Result<BallotFile> {
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let file = serde::Deserializer::deserialize_map(&mut deserializer, JsonReader)
        .and_then(|file| deserializer.end().map(|()| file))
        .map_err(|e| anyhow!("{e}"))?;
    if !file.choices.is_empty() && !file.profile.is_empty() {
        bail!("the ballots mix rankings with other forms: a file holds one election");
    }
    Ok(file)
}

/// The top-level object of a JSON ballot file.
struct JsonReader;

impl<'de> Visitor<'de> for JsonReader {
    type Value = BallotFile;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object with candidates and ballots")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<BallotFile, A::Error> {
        let mut file = BallotFile {
            format: Format::Json,
            title: String::new(),
            seats: None,
            profile: Profile::new(Vec::new()),
            choices: Vec::new(),
        };
        let (mut named, mut counted) = (false, false);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "title" => file.title = map.next_value()?,
                "seats" => file.seats = map.next_value()?,
                "candidates" if counted => {
                    return Err(de::Error::custom(
                        "\"candidates\" must come before \"ballots\"",
                    ));
                }
                "candidates" => {
                    let names: Vec<String> = map.next_value()?;
                    if names.len() > MAX_OPTIONS {
                        return Err(de::Error::custom(format!(
                            "{} candidates: at most {MAX_OPTIONS}",
                            names.len()
                        )));
                    }
                    file.profile = Profile::new(names);
                    named = true;
                }
                "withdrawn" if !named => {
                    return Err(de::Error::custom(
                        "\"candidates\" must come before \"withdrawn\"",
                    ));
                }
                "withdrawn" => {
                    for name in map.next_value::<Vec<String>>()? {
                        let c = index(&file.profile, &name).map_err(de::Error::custom)?;
                        file.profile.withdrawn[c as usize] = true;
                    }
                }
                "ballots" => {
                    counted = true;
                    map.next_value_seed(JsonBallots {
                        profile: &mut file.profile,
                        choices: &mut file.choices,
                        total: &mut 0,
                    })?;
                }
                other => {
                    return Err(de::Error::unknown_field(
                        other,
                        &["title", "candidates", "seats", "withdrawn", "ballots"],
                    ));
                }
            }
        }
        if !counted {
            return Err(de::Error::missing_field("ballots"));
        }
        Ok(file)
    }
}

/// The `ballots` array, read one ballot at a time into the profile or the choices.
struct JsonBallots<'a> {
    profile: &'a mut Profile,
    choices: &'a mut Vec<(u64, Choice)>,
    /// The sum of the choices' counts so far.
    total: &'a mut u64,
}

impl<'de> DeserializeSeed<'de> for JsonBallots<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for JsonBallots<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of ballots")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut number = 0;
        while let Some(ballot) = seq.next_element::<JsonBallot>()? {
            number += 1;
            let choice = ballot_choice(&ballot, self.profile).map_err(|e| {
                de::Error::custom(format!("ballot {number} (counting from 1): {e:#}"))
            })?;
            if let Some(choice) = choice {
                // Weights stay weights: a count is added, never expanded into copies.
                *self.total = self
                    .total
                    .checked_add(ballot.count)
                    .filter(|&total| total <= MAX_TOTAL_WEIGHT)
                    .ok_or_else(|| {
                        de::Error::custom(format!(
                            "ballot {number} (counting from 1): a count of {} brings the ballots \
                             over {MAX_TOTAL_WEIGHT} voters, the most a count takes",
                            ballot.count
                        ))
                    })?;
                self.choices.push((ballot.count, choice));
            }
        }
        Ok(())
    }
}

/// The index of a candidate named in a JSON ballot.
fn index(profile: &Profile, name: &str) -> Result<u32> {
    profile
        .candidates
        .iter()
        .position(|c| c == name)
        .map(|i| i as u32)
        .ok_or_else(|| anyhow!("{name:?} is not one of the candidates"))
}

/// One value per candidate from a `{name: value}` map, `default` for those it leaves out.
fn per_candidate<T: Copy>(
    profile: &Profile,
    map: &BTreeMap<String, T>,
    default: T,
) -> Result<Vec<T>> {
    let mut all = vec![default; profile.candidates.len()];
    for (name, &value) in map {
        all[index(profile, name)? as usize] = value;
    }
    Ok(all)
}

/// Adds a ranking to the profile (`None`), or returns the choice of another form.
fn ballot_choice(ballot: &JsonBallot, profile: &mut Profile) -> Result<Option<Choice>> {
    let forms = [
        ballot.ranking.is_some(),
        ballot.approve.is_some(),
        ballot.scores.is_some(),
        ballot.answers.is_some(),
        ballot.vote.is_some(),
        ballot.position.is_some(),
    ];
    if forms.iter().filter(|&&f| f).count() != 1 {
        bail!("give exactly one of ranking, approve, scores, answers, vote, position");
    }
    Ok(if let Some(ranking) = &ballot.ranking {
        let groups: Vec<Vec<u32>> = ranking
            .iter()
            .map(|rank| match rank {
                Rank::One(name) => Ok(vec![index(profile, name)?]),
                Rank::Tied(names) => names.iter().map(|n| index(profile, n)).collect(),
            })
            .collect::<Result<_>>()?;
        profile.push(ballot.count, groups).map_err(|e| anyhow!(e))?;
        None
    } else if let Some(approve) = &ballot.approve {
        let mut approved: Vec<u32> = approve
            .iter()
            .map(|n| index(profile, n))
            .collect::<Result<_>>()?;
        approved.sort_unstable();
        approved.dedup();
        Some(Choice::Approval { approved })
    } else if let Some(scores) = &ballot.scores {
        Some(Choice::Score {
            scores: per_candidate(profile, scores, 0)?,
        })
    } else if let Some(answers) = &ballot.answers {
        Some(Choice::TimePoll {
            answers: per_candidate(profile, answers, Availability::No)?,
        })
    } else if let Some(vote) = ballot.vote {
        Some(Choice::YesNo { vote })
    } else {
        Some(Choice::Consent {
            position: ballot.position.expect("one form is given"),
            reason: ballot.reason.clone(),
        })
    })
}

/// Writes ranked ballots as BLT: equal ballots merged, in ascending order of their rankings,
/// so that nothing about who voted when or in what order survives.
pub fn write_blt(title: &str, profile: &Profile, seats: u32) -> String {
    let mut out = format!("{} {seats}\n", profile.candidates.len());
    let withdrawn: Vec<String> = (0..profile.candidates.len())
        .filter(|&c| profile.withdrawn[c])
        .map(|c| format!("-{}", c + 1))
        .collect();
    if !withdrawn.is_empty() {
        let _ = writeln!(out, "{}", withdrawn.join(" "));
    }
    for (weight, groups) in merged(profile) {
        let _ = write!(out, "{weight}");
        for group in &groups {
            let numbers: Vec<String> = group.iter().map(|c| (c + 1).to_string()).collect();
            let _ = write!(out, " {}", numbers.join("="));
        }
        out.push_str(" 0\n");
    }
    out.push_str("0\n");
    for name in &profile.candidates {
        let _ = writeln!(out, "\"{}\"", name.replace('"', "\"\""));
    }
    let _ = writeln!(out, "\"{}\"", title.replace('"', "\"\""));
    out
}

/// Writes ranked ballots as PrefLib (toi: orders with ties, incomplete), merged and sorted
/// like [`write_blt`].
pub fn write_preflib(title: &str, profile: &Profile) -> String {
    let orders = merged(profile);
    let mut out = format!(
        "# FILE NAME: commune.toi\n# TITLE: {title}\n# DATA TYPE: toi\n# MODIFICATION TYPE: original\n# NUMBER ALTERNATIVES: {}\n# NUMBER VOTERS: {}\n# NUMBER UNIQUE ORDERS: {}\n",
        profile.candidates.len(),
        profile.total_weight(),
        orders.len()
    );
    for (i, name) in profile.candidates.iter().enumerate() {
        let _ = writeln!(out, "# ALTERNATIVE NAME {}: {name}", i + 1);
    }
    for (weight, groups) in orders {
        let places: Vec<String> = groups
            .iter()
            .map(|group| {
                let numbers: Vec<String> = group.iter().map(|c| (c + 1).to_string()).collect();
                if group.len() == 1 {
                    numbers[0].clone()
                } else {
                    format!("{{{}}}", numbers.join(","))
                }
            })
            .collect();
        let _ = writeln!(out, "{weight}: {}", places.join(","));
    }
    out
}

type Merged = Vec<(u64, Vec<Vec<u32>>)>;

/// The ballots merged by ranking, most frequent first, then by ranking.
fn merged(profile: &Profile) -> Merged {
    let mut counts: BTreeMap<Vec<Vec<u32>>, u64> = BTreeMap::new();
    for (weight, ranking) in profile.ballots() {
        let groups: Vec<Vec<u32>> = ranking.groups().map(|g| g.candidates().collect()).collect();
        *counts.entry(groups).or_default() += weight;
    }
    let mut list: Merged = counts
        .into_iter()
        .map(|(groups, weight)| (weight, groups))
        .collect();
    list.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    list
}
