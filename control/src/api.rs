//! The control socket: `mipdp ctl` connects to a Unix socket the control thread serves
//! between its other work, sends one command line and reads the answer until the server
//! closes the connection.
//!
//! Commands: `refresh binding HOME` (a Binding Refresh Request to a Mobile IPv6 mobile
//! node now), `show stats` (every counter, one `key=value` line per port, worker and the
//! engine) and `show recovery` (the verification of the bindings restored at start). The server never blocks the control thread for long: it accepts without
//! waiting and gives a client a short time to send its line.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

/// Where the socket is unless the configuration says otherwise.
pub const DEFAULT_SOCKET: &str = "/run/mipdp.sock";

/// How long a connected client gets to send its command.
const CLIENT_TIMEOUT: Duration = Duration::from_millis(200);

/// The server side, polled by the control thread.
#[derive(Debug)]
pub struct ControlSocket {
    listener: UnixListener,
    path: PathBuf,
}

impl ControlSocket {
    /// Listens on `path`, replacing a stale socket file left by a process that is gone.
    pub fn bind(path: &Path) -> Result<ControlSocket> {
        if path.exists() {
            if UnixStream::connect(path).is_ok() {
                anyhow::bail!(
                    "control socket {} is in use by another mipdp: give this one another \
                     dataplane.control_socket",
                    path.display()
                );
            }
            std::fs::remove_file(path).with_context(|| {
                format!("cannot remove the stale control socket {}", path.display())
            })?;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the directory of {}", path.display()))?;
        }
        let listener = UnixListener::bind(path).with_context(|| {
            format!(
                "cannot listen on the control socket {} (dataplane.control_socket)",
                path.display()
            )
        })?;
        listener
            .set_nonblocking(true)
            .context("cannot make the control socket non-blocking")?;
        Ok(ControlSocket {
            listener,
            path: path.to_path_buf(),
        })
    }

    /// Serves the clients waiting now; `answer` turns a command into its reply text.
    pub fn serve(&self, mut answer: impl FnMut(&str) -> String) {
        while let Ok((stream, _)) = self.listener.accept() {
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(CLIENT_TIMEOUT));
            let _ = stream.set_write_timeout(Some(CLIENT_TIMEOUT));
            let mut line = String::new();
            let mut reader = BufReader::new(stream.take(4096));
            // A client that closes without a command (such as another mipdp checking
            // whether the socket is live) gets nothing.
            if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
                continue;
            }
            let reply = answer(line.trim());
            let mut stream = reader.into_inner().into_inner();
            let _ = stream.write_all(reply.as_bytes());
        }
    }
}

impl Drop for ControlSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The client: sends `command` and returns the answer.
pub fn request(path: &Path, command: &str) -> Result<String> {
    let mut stream = UnixStream::connect(path).with_context(|| {
        format!(
            "cannot connect to mipdp's control socket {}: is mipdp running, and is this its \
             dataplane.control_socket? (give it with --socket)",
            path.display()
        )
    })?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(format!("{command}\n").as_bytes())?;
    let mut reply = String::new();
    stream
        .read_to_string(&mut reply)
        .context("the control socket closed before answering")?;
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_gets_its_answer_and_a_stale_socket_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctl.sock");
        // A socket file nobody listens on any more.
        drop(UnixListener::bind(&path).unwrap());
        let server = ControlSocket::bind(&path).unwrap();
        assert!(ControlSocket::bind(&path)
            .unwrap_err()
            .to_string()
            .contains("in use"));
        let client = std::thread::spawn({
            let path = path.clone();
            move || request(&path, "show stats").unwrap()
        });
        let mut served = false;
        // Long enough for a loaded 2-core machine: the loop ends as soon as it served the
        // client. The "in use" probe above left a connection too, an empty command served
        // first: it must not end the loop before the client has connected.
        for _ in 0..4000 {
            server.serve(|cmd| {
                served |= cmd == "show stats";
                format!("you said {cmd}\n")
            });
            if served {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(client.join().unwrap(), "you said show stats\n");
        drop(server);
        assert!(!path.exists());
        assert!(request(&path, "show stats")
            .unwrap_err()
            .to_string()
            .contains("is mipdp running"));
    }
}
