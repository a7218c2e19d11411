//! Store URLs: `dir:PATH` (or a plain path), `milvus://HOST[:PORT]/NAME` and
//! `milvus+tls://HOST[:PORT]/NAME`, parsed once into a [`StoreUrl`] whatever the build's engines
//! (a build without the `milvus` feature still reads the URL, then refuses to open it).

use std::path::{Path, PathBuf};

use crate::store::StoreError;

/// Where a store is: the value of `--store` (or `--index DIR` when `--store` is unset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// A local index directory (`dir:PATH`, or a plain path).
    Dir(PathBuf),
    /// A Milvus server: `milvus://HOST:PORT/NAME` (plain HTTP) or `milvus+tls://HOST:PORT/NAME`
    /// (HTTPS); collections are named from `name`.
    Milvus {
        host: String,
        port: u16,
        name: String,
        /// Set for `milvus+tls://`: how to check the server's certificate.
        tls: Option<MilvusTls>,
    },
}

/// TLS settings of a `milvus+tls://` store: the system's roots, plus a CA of one's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MilvusTls {
    /// A PEM file of CA certificates trusted beside the system's (`--store-ca FILE`).
    pub ca: Option<PathBuf>,
}

impl StoreUrl {
    /// Parses `dir:PATH`, `milvus://HOST[:PORT]/NAME` or `milvus+tls://HOST[:PORT]/NAME` (port
    /// 19530 by default) or a plain path (a local index directory). Another scheme is refused,
    /// naming the ones known.
    pub fn parse(s: &str) -> Result<Self, StoreError> {
        let bad = |why: &str| StoreError::BadUrl {
            url: s.to_string(),
            reason: why.to_string(),
        };
        if let Some(path) = s.strip_prefix("dir:") {
            if path.is_empty() {
                return Err(bad("`dir:` needs a path, e.g. `dir:.simsum`"));
            }
            return Ok(StoreUrl::Dir(PathBuf::from(path)));
        }
        let milvus = match s.strip_prefix("milvus://") {
            Some(rest) => Some((rest, None)),
            None => s
                .strip_prefix("milvus+tls://")
                .map(|rest| (rest, Some(MilvusTls::default()))),
        };
        if let Some((rest, tls)) = milvus {
            let (hostport, name) = rest
                .split_once('/')
                .ok_or_else(|| bad("no collection name: use milvus://HOST:PORT/NAME"))?;
            let name = name.trim_end_matches('/');
            if name.is_empty()
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                || name.starts_with(|c: char| c.is_ascii_digit())
            {
                return Err(bad(
                    "the name must be letters, digits and `_`, starting with a letter or `_`",
                ));
            }
            let (host, port) = match hostport.rsplit_once(':') {
                Some((h, p)) => (
                    h.to_string(),
                    p.parse::<u16>()
                        .map_err(|_| bad(&format!("`{p}` is not a port number")))?,
                ),
                None => (hostport.to_string(), 19530),
            };
            if host.is_empty() {
                return Err(bad("no host: use milvus://HOST:PORT/NAME"));
            }
            return Ok(StoreUrl::Milvus {
                host,
                port,
                name: name.to_string(),
                tls,
            });
        }
        if let Some((scheme, _)) = s.split_once("://") {
            return Err(bad(&format!(
                "unknown scheme `{scheme}`: use dir:PATH, milvus://HOST:PORT/NAME or \
                 milvus+tls://HOST:PORT/NAME"
            )));
        }
        Ok(StoreUrl::Dir(PathBuf::from(s)))
    }

    /// Trusts the CA certificates of the PEM file `ca` beside the system's (`--store-ca`): only
    /// The error for an engine this build leaves out (cargo features).
    #[cfg(not(feature = "milvus"))]
    pub(super) fn not_built(&self) -> StoreError {
        StoreError::NotBuilt {
            url: self.to_string(),
            feature: "milvus",
        }
    }

    /// for a `milvus+tls://` store; another is refused, saying how to turn TLS on.
    pub fn with_ca(self, ca: PathBuf) -> Result<Self, StoreError> {
        match self {
            StoreUrl::Milvus {
                host,
                port,
                name,
                tls: Some(_),
            } => Ok(StoreUrl::Milvus {
                host,
                port,
                name,
                tls: Some(MilvusTls { ca: Some(ca) }),
            }),
            other => Err(StoreError::BadUrl {
                reason: format!(
                    "a CA file ({}) is for a TLS store: use milvus+tls://HOST:PORT/NAME",
                    ca.display()
                ),
                url: other.to_string(),
            }),
        }
    }

    /// The local directory, for `Dir`.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            StoreUrl::Dir(p) => Some(p),
            _ => None,
        }
    }

    /// For `Milvus`, the same server with its collections named by `rename` (given the
    /// current name): another store beside this one.
    pub fn renamed(&self, rename: impl FnOnce(&str) -> String) -> Option<StoreUrl> {
        let mut url = self.clone();
        match &mut url {
            StoreUrl::Milvus { name, .. } => {
                *name = rename(name);
                Some(url)
            }
            StoreUrl::Dir(_) => None,
        }
    }
}

impl std::fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreUrl::Dir(p) => write!(f, "dir:{}", p.display()),
            StoreUrl::Milvus {
                host,
                port,
                name,
                tls,
            } => {
                let scheme = if tls.is_some() {
                    "milvus+tls"
                } else {
                    "milvus"
                };
                write!(f, "{scheme}://{host}:{port}/{name}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_or_say_what_is_wrong() {
        assert_eq!(
            StoreUrl::parse("dir:.simsum").unwrap(),
            StoreUrl::Dir(".simsum".into())
        );
        assert_eq!(StoreUrl::parse("idx").unwrap(), StoreUrl::Dir("idx".into()));
        assert_eq!(
            StoreUrl::parse("milvus://127.0.0.1:19530/reports").unwrap(),
            StoreUrl::Milvus {
                host: "127.0.0.1".into(),
                port: 19530,
                name: "reports".into(),
                tls: None,
            }
        );
        let tls = StoreUrl::parse("milvus+tls://db.example.org/reports").unwrap();
        assert_eq!(tls.to_string(), "milvus+tls://db.example.org:19530/reports");
        assert_eq!(StoreUrl::parse(&tls.to_string()).unwrap(), tls);
        let with_ca = tls.clone().with_ca("ca.pem".into()).unwrap();
        assert!(matches!(
            with_ca,
            StoreUrl::Milvus { tls: Some(MilvusTls { ca: Some(ref p) }), .. } if p == Path::new("ca.pem")
        ));
        let e = StoreUrl::parse("milvus://db/reports")
            .unwrap()
            .with_ca("ca.pem".into())
            .unwrap_err()
            .to_string();
        assert!(e.contains("ca.pem") && e.contains("milvus+tls://"), "{e}");
        assert_eq!(
            StoreUrl::parse("milvus://db/reports").unwrap().to_string(),
            "milvus://db:19530/reports"
        );
        for bad in [
            "qdrant://x/y",
            "milvus://h:99999/n",
            "milvus://h:1",
            "milvus://h:1/bad-name",
            "milvus+tls://h:1",
            "dir:",
        ] {
            let e = StoreUrl::parse(bad).unwrap_err().to_string();
            assert!(e.contains(bad), "{e}");
        }
    }
}
