//! Faults: a database locked past the busy timeout, damaged, read-only or from a newer
//! version, a missing directory, and a spool on a full disk. Each gets a clear message and an
//! exit status, and leaves nothing half-done.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NOW: &str = "2026-11-25T12:00:00Z";

fn bin(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_boxoffice"))
        .env("BOXOFFICE_DB", db)
        .env("BOXOFFICE_NOW", NOW)
        .env_remove("BOXOFFICE_SPOOL")
        .env_remove("BOXOFFICE_FAILPOINT")
        .args(args)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// The demo as the first command fills it (a copy of one filled once: `common::engine`).
fn demo() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::common::engine::demo_file(dir.path(), NOW.parse().unwrap());
    (dir, db)
}

#[test]
fn a_database_locked_past_the_busy_timeout_says_busy_and_the_retry_works() {
    let (_dir, db) = demo();
    let locker = rusqlite::Connection::open(&db).unwrap();
    locker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let t = std::time::Instant::now();
    let out = bin(
        &db,
        &[
            "hold",
            "demo-13",
            "FLR-A-1",
            "FLR-A-2",
            "--customer",
            "a@example.com",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("busy"), "{}", stderr(&out));
    assert!(
        t.elapsed().as_secs_f64() >= 4.5,
        "it waited for the other writer first"
    );
    locker.execute_batch("ROLLBACK").unwrap();
    drop(locker);
    let seats = bin(&db, &["seats", "demo-13", "--json"]);
    let seats: serde_json::Value = serde_json::from_slice(&seats.stdout).unwrap();
    assert_eq!(seats[0]["status"], "free", "nothing half-done");
    let retry = bin(
        &db,
        &[
            "hold",
            "demo-13",
            "FLR-A-1",
            "FLR-A-2",
            "--customer",
            "a@example.com",
        ],
    );
    assert!(retry.status.success(), "{}", stderr(&retry));
}

#[test]
fn a_damaged_newer_or_missing_database_is_a_clear_error_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.db");
    let bytes = b"SQLite format 3\0 but then garbage ".repeat(300);
    std::fs::write(&junk, &bytes).unwrap();
    let out = bin(&junk, &["concerts"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("damaged or not a boxoffice database"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&junk).unwrap(), bytes);

    let newer = dir.path().join("newer.db");
    rusqlite::Connection::open(&newer)
        .unwrap()
        .execute_batch("PRAGMA user_version = 999;")
        .unwrap();
    let before = std::fs::read(&newer).unwrap();
    let out = bin(&newer, &["concerts"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("newer boxoffice"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&newer).unwrap(), before);

    let out = bin(&dir.path().join("no/such/dir/box.db"), &["concerts"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    assert!(!dir.path().join("no").exists(), "nothing was created");
}

/// Root ignores file permissions, so a read-only file system is the honest test: a small
/// tmpfs mounted read-only. Needs root and mount; skipped (and said so) otherwise.
fn mount_tmpfs(dir: &Path, size_kb: usize) -> bool {
    std::fs::create_dir_all(dir).unwrap();
    Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size_kb}k"), "tmpfs"])
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success())
}

fn umount(dir: &Path) {
    let _ = Command::new("umount").arg(dir).status();
}

#[test]
fn a_read_only_database_is_a_clear_error() {
    let (dir, db) = demo();
    let mnt = dir.path().join("ro");
    if !mount_tmpfs(&mnt, 64 * 1024) {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    }
    std::fs::copy(&db, mnt.join("box.db")).unwrap();
    let ok = Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(&mnt)
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let before = std::fs::read(mnt.join("box.db")).unwrap();
    let out = bin(&mnt.join("box.db"), &["concerts"]);
    umount(&mnt);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("read-only"), "{}", stderr(&out));
    assert!(!before.is_empty());
}

#[test]
fn a_full_spool_disk_never_stops_a_booking_and_the_messages_follow_later() {
    let (dir, db) = demo();
    let mnt = dir.path().join("spool");
    if !mount_tmpfs(&mnt, 32) {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    }
    // Fill the disk.
    let _ = std::fs::write(mnt.join("filler"), vec![0u8; 64 * 1024]);
    let hold = bin(
        &db,
        &[
            "hold",
            "demo-13",
            "FLR-B-1",
            "FLR-B-2",
            "--customer",
            "full@example.com",
            "--phone",
            "+436601234567",
            "--json",
        ],
    );
    let hold: serde_json::Value = serde_json::from_slice(&hold.stdout).unwrap();
    let pay = bin(
        &db,
        &[
            "pay",
            hold["hold_id"].as_str().unwrap(),
            "--cash",
            "10000",
            "--json",
        ],
    );
    let booked = pay.status.success();
    let status = bin(&db, &["spool", "status", "--json"]);
    let _ = std::fs::remove_file(mnt.join("filler"));
    let flush = bin(&db, &["spool", "flush", "--json"]);
    let files = std::fs::read_dir(mnt.join("email/new"))
        .map(|d| d.count())
        .unwrap_or(0);
    umount(&mnt);
    assert!(booked, "{}", stderr(&pay));
    assert!(
        stderr(&pay).contains("the message waits"),
        "{}",
        stderr(&pay)
    );
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["pending"], 2, "email and SMS wait: {status}");
    let flushed: serde_json::Value = serde_json::from_slice(&flush.stdout).unwrap();
    assert_eq!(flushed["delivered"], 2, "{flushed}");
    assert_eq!(files, 1);
}

/// Leaves about `free_kb` of space on the file system at `dir`: a reserve of that size, then a
/// filler until the disk is full, then the reserve is given back.
fn leave_free(dir: &Path, free_kb: usize) {
    use std::io::Write;
    std::fs::write(dir.join("reserve"), vec![1u8; free_kb * 1024]).unwrap();
    let mut filler = std::fs::File::create(dir.join("filler")).unwrap();
    let block = vec![1u8; 64 * 1024];
    while filler.write_all(&block).is_ok() {}
    let small = vec![1u8; 1024];
    while filler.write_all(&small).is_ok() {}
    drop(filler);
    std::fs::remove_file(dir.join("reserve")).unwrap();
}

fn integrity(db: &Path) -> String {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

fn count(db: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

/// A season of `n` concerts at the Velvet Room from February 2027.
fn season(n: usize) -> String {
    let mut csv =
        String::from("external_id,artist,title,venue,starts_at,on_sale_at,price_S,price_P\n");
    let start = chrono::NaiveDate::from_ymd_opt(2027, 2, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    for i in 0..n {
        // Ten a day between noon and 22:00: never in the hour a clock change skips.
        let at = start
            + chrono::Duration::days(i as i64 / 10)
            + chrono::Duration::hours(12 + i as i64 % 10);
        csv.push_str(&format!(
            "full-{i},Artist Number {i} and the Long Named Orchestra,Season Night {i},velvet-room,{} Europe/Vienna,2026-11-01 09:00 Europe/Vienna,20,30\n",
            at.format("%Y-%m-%d %H:%M")
        ));
    }
    csv
}

#[test]
fn a_full_disk_fails_an_import_or_a_payment_cleanly_and_the_box_office_works_once_there_is_room() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("small");
    if !mount_tmpfs(&mnt, 24 * 1024) {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    }
    let db = mnt.join("box.db");
    let out = bin(&db, &["concerts"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = dir.path().join("season.csv");
    std::fs::write(&csv, season(3_000)).unwrap();
    let concerts = count(&db, "SELECT count(*) FROM concerts");
    let hold = bin(
        &db,
        &[
            "hold",
            "demo-13",
            "FLR-B-1",
            "FLR-B-2",
            "--customer",
            "full@example.com",
            "--json",
        ],
    );
    assert!(hold.status.success(), "{}", stderr(&hold));
    let hold: serde_json::Value = serde_json::from_slice(&hold.stdout).unwrap();
    let hold = hold["hold_id"].as_str().unwrap().to_string();

    // Room to open the box office, not for the season: the import fails part-way through.
    leave_free(&mnt, 256);
    let import = bin(&db, &["import", csv.to_str().unwrap()]);
    std::fs::remove_file(mnt.join("filler")).unwrap();
    // No room at all: the payment fails before anything is recorded.
    leave_free(&mnt, 0);
    let pay = bin(&db, &["pay", &hold, "--cash", "10000"]);
    // Room again: the database is intact, nothing was half done, and everything works.
    std::fs::remove_file(mnt.join("filler")).unwrap();
    let checked = integrity(&db);
    let after_import = count(
        &db,
        "SELECT count(*) FROM concerts WHERE import_batch IS NULL",
    );
    let booked = count(
        &db,
        "SELECT count(*) FROM bookings WHERE hold_id = (SELECT id FROM holds WHERE email = 'full@example.com')",
    );
    let import_again = bin(&db, &["import", csv.to_str().unwrap()]);
    let pay_again = bin(&db, &["pay", &hold, "--cash", "10000", "--json"]);
    let finally = count(&db, "SELECT count(*) FROM concerts");
    let checked_again = integrity(&db);
    umount(&mnt);

    assert_eq!(import.status.code(), Some(1), "{}", stderr(&import));
    assert!(
        stderr(&import).contains("the disk is full"),
        "{}",
        stderr(&import)
    );
    assert!(!String::from_utf8_lossy(&import.stdout).contains("added"));
    assert_eq!(pay.status.code(), Some(1), "{}", stderr(&pay));
    assert!(
        stderr(&pay).contains("the disk is full"),
        "{}",
        stderr(&pay)
    );
    assert_eq!(checked, "ok");
    assert_eq!(after_import, concerts, "no half import");
    assert_eq!(booked, 0, "nothing half paid");
    assert!(import_again.status.success(), "{}", stderr(&import_again));
    assert_eq!(finally, concerts + 3_000);
    assert!(pay_again.status.success(), "{}", stderr(&pay_again));
    assert_eq!(checked_again, "ok");
}

/// The money is taken, then the disk fills before the booking is written: the clerk is told
/// the truth about the money (a card's charge is booked later, cash is handed back), not
/// "nothing was changed"; once there is room, reconcile settles each as said.
#[test]
fn a_charge_taken_when_the_booking_cannot_be_written_says_what_became_of_the_money() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("small");
    if !mount_tmpfs(&mnt, 24 * 1024) {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    }
    let db = mnt.join("box.db");
    // The card gateway's books are elsewhere: the charge is there to be found.
    let gateway = dir.path().join("gateway.db");
    let run = |args: &[&str], env: &[(&str, &str)]| {
        Command::new(env!("CARGO_BIN_EXE_boxoffice"))
            .env("BOXOFFICE_DB", &db)
            .env("BOXOFFICE_GATEWAY", &gateway)
            .env("BOXOFFICE_NOW", NOW)
            .env_remove("BOXOFFICE_SPOOL")
            .env_remove("BOXOFFICE_FAILPOINT")
            .envs(env.iter().copied())
            .args(args)
            .output()
            .unwrap()
    };
    assert!(run(&["concerts"], &[]).status.success());
    let hold = |seat: &str, who: &str| {
        let out = run(&["hold", "demo-13", seat, "--customer", who, "--json"], &[]);
        assert!(out.status.success(), "{}", stderr(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["hold_id"].as_str().unwrap().to_string()
    };
    let mut said = Vec::new();
    for (hold, how) in [
        (
            hold("FLR-B-1", "card@example.com"),
            vec![
                "--card",
                "4242424242424242",
                "--exp",
                "12/28",
                "--cvc",
                "123",
            ],
        ),
        (hold("FLR-B-2", "cash@example.com"), vec!["--cash", "10000"]),
    ] {
        let until = dir.path().join(format!("go-{hold}"));
        let mut args = vec!["pay", hold.as_str()];
        args.extend(how);
        let pay = Command::new(env!("CARGO_BIN_EXE_boxoffice"))
            .env("BOXOFFICE_DB", &db)
            .env("BOXOFFICE_GATEWAY", &gateway)
            .env("BOXOFFICE_NOW", NOW)
            .env("BOXOFFICE_FAILPOINT", "pay:before-confirm")
            .env("BOXOFFICE_FAILPOINT_UNTIL", &until)
            .env_remove("BOXOFFICE_SPOOL")
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The charge is recorded and out: then the disk fills.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while count(
            &db,
            &format!(
                "SELECT count(*) FROM payments WHERE hold_id = '{hold}' AND state = 'pending'"
            ),
        ) == 0
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the charge never started"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        leave_free(&mnt, 0);
        std::fs::write(&until, "").unwrap();
        let out = pay.wait_with_output().unwrap();
        std::fs::remove_file(mnt.join("filler")).unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        said.push(stderr(&out));
    }
    let (card, cash) = (&said[0], &said[1]);
    assert!(
        card.contains("EUR ")
            && card.contains("was charged, not yet booked (the disk is full")
            && card.contains("nothing is lost")
            && card.contains("boxoffice reconcile")
            && !card.contains("nothing was changed"),
        "{card}"
    );
    assert!(
        cash.contains("hand the EUR ")
            && cash.contains("cash back: the booking could not be written"),
        "{cash}"
    );
    // Room again, and the lease of a payment in flight over: reconcile does what was said.
    let later = (NOW.parse::<chrono::DateTime<chrono::Utc>>().unwrap()
        + chrono::Duration::minutes(3))
    .to_rfc3339();
    let out = run(&["reconcile"], &[("BOXOFFICE_NOW", &later)]);
    let booked = |who: &str| {
        count(
            &db,
            &format!(
                "SELECT count(*) FROM bookings b JOIN holds h ON h.id = b.hold_id WHERE h.email = '{who}' AND b.state = 'confirmed'"
            ),
        )
    };
    let (card_booked, cash_booked) = (booked("card@example.com"), booked("cash@example.com"));
    let audit = run(&["audit"], &[("BOXOFFICE_NOW", &later)]);
    let checked = integrity(&db);
    umount(&mnt);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!((card_booked, cash_booked), (1, 0));
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stdout)
    );
    assert_eq!(checked, "ok");
}
