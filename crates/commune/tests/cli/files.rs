//! The files a node writes: outputs that are devices, pipes or standard output, key files,
//! and the data directory's permissions.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::process::Command;

use super::TestNode;

fn found(node: &TestNode, name: &str) -> String {
    node.ok(&["council", "found", name])["council"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn a_bundle_written_to_a_device_leaves_the_device_in_place() {
    let node = TestNode::new();
    found(&node, "Kitchen");
    let root = nix_is_root();
    let device = node.dir.path().join("null");
    if root {
        // A second /dev/null (character device 1, 3), made in the test's own directory.
        let made = Command::new("mknod")
            .arg(&device)
            .args(["c", "1", "3"])
            .status()
            .unwrap();
        assert!(made.success());
        node.ok(&["bundle", "export", "-o", device.to_str().unwrap()]);
        let kind = std::fs::metadata(&device).unwrap().file_type();
        assert!(kind.is_char_device(), "{device:?} was replaced: {kind:?}");
    }

    // A pipe: the bundle goes to its reader, and the pipe stays a pipe.
    let fifo = node.dir.path().join("pipe");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    node.ok(&["bundle", "export", "-o", fifo.to_str().unwrap()]);
    let bytes = reader.join().unwrap();
    assert!(
        bytes.starts_with(b"commune-bundle\n\x01"),
        "{} bytes",
        bytes.len()
    );
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

fn nix_is_root() -> bool {
    let output = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&output.stdout).trim() == "0"
}

#[test]
fn a_bundle_goes_to_standard_output_with_a_dash() {
    let node = TestNode::new();
    let council = found(&node, "Kitchen");
    let output = node
        .command(&["bundle", "export", "-o", "-"])
        .current_dir(node.dir.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(output.stdout.starts_with(b"commune-bundle\n\x01"));
    assert!(String::from_utf8_lossy(&output.stderr).contains("standard output"));
    assert!(!node.dir.path().join("-").exists());
    let other = TestNode::new();
    let file = other.dir.path().join("piped.bundle");
    std::fs::write(&file, &output.stdout).unwrap();
    other.ok(&["bundle", "import", file.to_str().unwrap()]);
    assert_eq!(other.log_len(&council), 1);
}

#[test]
fn the_data_directory_and_database_are_private_whatever_the_umask() {
    let dir = tempfile::TempDir::new().unwrap();
    let data = dir.path().join("data");
    // `sh -c 'umask 000; exec commune init'`: the loosest umask there is.
    let status = Command::new("sh")
        .arg("-c")
        .arg("umask 000; exec \"$0\" --data \"$1\" init")
        .arg(env!("CARGO_BIN_EXE_commune"))
        .arg(&data)
        .env_remove("COMMUNE_DATA")
        .env_remove("COMMUNE_STORE")
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("keys")), 0o700);
    let database = std::fs::read_dir(&data)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.extension().is_some_and(|e| e == "sqlite" || e == "db"))
        .expect("a database file");
    assert_eq!(mode(&database), 0o600, "{database:?}");
}

#[test]
fn a_damaged_key_file_is_named_and_the_others_still_listed() {
    let node = TestNode::new();
    node.ok(&["key", "new", "bob"]);
    // What a full disk used to leave: an empty key file.
    std::fs::write(node.data().join("keys").join("carol.key"), b"").unwrap();
    let list = node.ok(&["key", "list"]);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3, "{list:?}");
    let carol = list.iter().find(|e| e["identity"] == "carol").unwrap();
    assert!(
        carol["damaged"].as_str().unwrap().contains("carol.key"),
        "{carol}"
    );
    assert!(list.iter().filter(|e| e["public_key"].is_string()).count() == 2);
    let text = node.run(&["key", "list"]);
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("bob"), "{text}");
    assert!(text.contains("carol  damaged"), "{text}");
    // Its name is not taken over by a new key.
    assert!(node.fails(&["key", "new", "carol"]).contains("already"));
}

#[test]
fn a_key_exported_with_a_passphrase_imports_elsewhere_and_a_browser_backup_imports_too() {
    let a = TestNode::new();
    let me = a.ok(&["whoami"])["public_key"].as_str().unwrap().to_owned();
    let passphrase = a.dir.path().join("passphrase");
    std::fs::write(&passphrase, "a long enough passphrase\n").unwrap();
    let pass = passphrase.to_str().unwrap();
    let backup = a.dir.path().join("me.backup.json");
    a.ok(&[
        "key",
        "export",
        "me",
        "-o",
        backup.to_str().unwrap(),
        "--passphrase-file",
        pass,
    ]);
    let text = std::fs::read_to_string(&backup).unwrap();
    // The browser's fields, and no secret in the clear.
    let fields: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(fields["commune_key_backup"], 1);
    assert_eq!(fields["kdf"], "PBKDF2-SHA-256");
    assert_eq!(fields["rounds"], 600_000);
    assert_eq!(fields["public_key"], me.as_str());
    let seed = std::fs::read_to_string(a.data().join("keys").join("me.key")).unwrap();
    assert!(!text.contains(seed.trim()));
    assert_eq!(mode_of(&backup), 0o600);

    let b = TestNode::new();
    let file = backup.to_str().unwrap();
    assert!(
        b.fails(&["key", "import", "me", file, "--passphrase-file", pass])
            .contains("already exists")
    );
    let imported = b.ok(&["key", "import", "laptop", file, "--passphrase-file", pass]);
    assert_eq!(imported["public_key"], me.as_str());
    assert_eq!(
        b.ok(&["--as", "laptop", "whoami"])["public_key"],
        me.as_str()
    );

    let wrong = b.dir.path().join("wrong");
    std::fs::write(&wrong, "not the passphrase\n").unwrap();
    let error = b.fails(&[
        "key",
        "import",
        "other",
        file,
        "--passphrase-file",
        wrong.to_str().unwrap(),
    ]);
    assert!(error.contains("passphrase does not open"), "{error}");
    assert!(!b.data().join("keys").join("other.key").exists());

    // A backup in the browser's format made outside commune (test_data/keys/README.md).
    let browser = format!(
        "{}/../../test_data/keys/browser-backup.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let phrase = b.dir.path().join("browser-passphrase");
    std::fs::write(&phrase, "correct horse battery staple").unwrap();
    let imported = b.ok(&[
        "key",
        "import",
        "phone",
        &browser,
        "--passphrase-file",
        phrase.to_str().unwrap(),
    ]);
    assert_eq!(
        imported["public_key"],
        "7a97c819f18f085ef8d9404a48747c1fc251ef448e544e5ec8b120810fd47575"
    );
}

fn mode_of(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn commands_that_only_read_work_on_a_read_only_data_directory() {
    let node = TestNode::new();
    let council = found(&node, "Kitchen");
    let bin = env!("CARGO_BIN_EXE_commune");
    let data = node.data();
    let data = data.to_str().unwrap();
    let reads = [
        format!("{bin} --data {data} council list"),
        format!("{bin} --data {data} log {council}"),
        format!("{bin} --data {data} state-hash {council}"),
        format!("{bin} --data {data} verify"),
        format!("{bin} --data {data} key list"),
    ];
    let write = format!("{bin} --data {data} council found Garden");
    // As root, permissions do not stop writes: the directory is mounted read-only in a
    // mount namespace of the test's own. Otherwise the directory and its files lose their
    // write bits.
    let script = format!(
        "{} && {{ {write}; echo \"write exit $?\"; }}",
        reads.join(" && ")
    );
    let script = if nix_is_root() {
        let root = node.dir.path().to_str().unwrap();
        format!("mount --bind {root} {root} && mount -o remount,bind,ro {root} && {script}")
    } else {
        format!("chmod -R a-w {data} && {script}; chmod -R u+w {data}")
    };
    let mut command = if nix_is_root() {
        let mut command = Command::new("unshare");
        command.args(["-m", "sh", "-c", &script]);
        command
    } else {
        let mut command = Command::new("sh");
        command.args(["-c", &script]);
        command
    };
    let output = command
        .env_remove("COMMUNE_DATA")
        .env_remove("COMMUNE_STORE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stdout.contains("Kitchen"), "{stdout}\n{stderr}");
    assert!(stdout.contains(": ok"), "{stdout}\n{stderr}");
    assert!(stdout.contains("write exit 1"), "{stdout}\n{stderr}");
    assert!(stderr.contains("readonly"), "{stderr}");
}
