//! A program on a pseudo-terminal, its screen kept by a terminal emulator (vt100): the app
//! itself, or the OpenSSH client talking to `boxoffice serve`.

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct PtyApp {
    pub parser: Arc<Mutex<vt100::Parser>>,
    pub writer: Box<dyn Write + Send>,
    pub child: Box<dyn Child + Send + Sync>,
    pub master: Box<dyn MasterPty + Send>,
}

impl PtyApp {
    pub fn spawn(dir: &Path, args: &[&str]) -> PtyApp {
        PtyApp::spawn_with(dir, args, &[])
    }

    /// With environment variables set after the defaults (another `BOXOFFICE_DB`, ...).
    pub fn spawn_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> PtyApp {
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_boxoffice"));
        cmd.cwd(dir);
        cmd.env("TERM", "xterm-256color");
        cmd.env("NO_COLOR", "1");
        cmd.env("BOXOFFICE_DB", dir.join("box.db"));
        cmd.env_remove("BOXOFFICE_SPOOL");
        cmd.env_remove("BOXOFFICE_GATEWAY");
        cmd.env_remove("BOXOFFICE_NOW");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.args(args);
        PtyApp::spawn_command(cmd, 24, 80)
    }

    /// Any program on a pseudo-terminal of `rows` x `cols` (the OpenSSH client, in the tests
    /// of `serve`).
    pub fn spawn_command(cmd: CommandBuilder, rows: u16, cols: u16) -> PtyApp {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().unwrap();
        let writer = pair.master.take_writer().unwrap();
        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            NonZeroU16::new(rows).unwrap(),
            NonZeroU16::new(cols).unwrap(),
            0,
        )));
        let p = parser.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                p.lock().unwrap().process(&buf[..n]);
            }
        });
        PtyApp {
            parser,
            writer,
            child,
            master: pair.master,
        }
    }

    /// Types `bytes`. No pause after it: the app reads keys in the order they come, so a test
    /// waits only for what it must see ([`PtyApp::wait_for`]) before it looks or goes on.
    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
    }

    /// Resizes the screen model first, then the terminal: the app redraws as soon as it hears,
    /// and its new frame must land on a screen of the new size.
    pub fn resize(&mut self, rows: u16, cols: u16) {
        self.parser.lock().unwrap().screen_mut().set_size(
            NonZeroU16::new(rows).unwrap(),
            NonZeroU16::new(cols).unwrap(),
        );
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
    }

    pub fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    pub fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let s = self.screen();
            if s.contains(needle) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "`{needle}` never showed; the screen was:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    pub fn quit(&mut self) {
        self.send(b"\x11"); // Ctrl-Q
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "exit status {status:?}");
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the app did not quit; screen:\n{}", self.screen());
    }
}

impl Drop for PtyApp {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
