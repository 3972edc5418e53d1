//! A TCP proxy in front of Postgres that a test can cut and restore, to
//! simulate a database outage without stopping the shared server.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::broadcast,
};

pub struct PgProxy {
    pub addr: SocketAddr,
    down: Arc<AtomicBool>,
    cut: broadcast::Sender<()>,
}

impl PgProxy {
    /// Proxies to the host and port of `upstream_url`.
    pub async fn start(upstream_url: &str) -> Self {
        let u = url::Url::parse(upstream_url).expect("valid URL");
        let upstream = format!("{}:{}", u.host_str().unwrap_or("127.0.0.1"), u.port().unwrap_or(5432));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("addr");
        let down = Arc::new(AtomicBool::new(false));
        let (cut, _) = broadcast::channel(4);
        let (d, c) = (down.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if d.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused in effect
                }
                tokio::spawn(pipe(client, upstream.clone(), c.subscribe()));
            }
        });
        Self { addr, down, cut }
    }

    /// `url` with its host and port pointing at the proxy.
    pub fn url_for(&self, url: &str) -> String {
        let mut u = url::Url::parse(url).expect("valid URL");
        u.set_host(Some("127.0.0.1")).expect("host");
        u.set_port(Some(self.addr.port())).expect("port");
        u.to_string()
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        let _ = self.cut.send(());
    }

    pub fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

async fn pipe(mut client: TcpStream, upstream: String, mut cut: broadcast::Receiver<()>) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = cut.recv() => {}
    }
}
