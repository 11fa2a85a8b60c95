//! Turns Ctrl-C and SIGTERM into a stop signal: the first asks for a clean stop, a second
//! Ctrl-C ends the process at once.

use tokio::sync::watch;

pub fn stop_on_signals() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; Ctrl-C still stops cleanly");
                None
            }
        };
        let terminated = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => eprintln!("\nstopping: finishing the steps under way (Ctrl-C again to quit at once)"),
            _ = terminated => eprintln!("SIGTERM: finishing the steps under way, then stopping"),
        }
        let _ = tx.send(true);
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("quit at once: the next run takes back what was under way");
            std::process::exit(130);
        }
    });
    rx
}
