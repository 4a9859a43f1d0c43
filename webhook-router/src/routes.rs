//! The route table: detail-type prefix → named target URL. Longest matching prefix wins, so a
//! specific route (`EcomIndexSettings.MODIFY`) can override a broad one (`EcomIndexSettings.`).

use serde::Serialize;

use crate::config::RouteSpec;

/// One route, with its URL parsed once at start (the forwarding path never re-parses it).
#[derive(Debug, Clone, Serialize)]
pub struct Route {
    pub prefix: String,
    pub target: String,
    #[serde(serialize_with = "ser_url")]
    pub url: reqwest::Url,
}

fn ser_url<S: serde::Serializer>(u: &reqwest::Url, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(u.as_str())
}

#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    /// Sorted by prefix length, longest first, so the first match is the longest.
    routes: Vec<Route>,
}

impl RouteTable {
    /// Build from parsed specs; a later spec with the same prefix replaces an earlier one.
    pub fn new(specs: &[RouteSpec]) -> anyhow::Result<Self> {
        let mut routes: Vec<Route> = Vec::with_capacity(specs.len());
        for s in specs {
            let url = reqwest::Url::parse(&s.url)
                .map_err(|e| anyhow::anyhow!("route {}: bad URL {:?}: {e}", s.prefix, s.url))?;
            routes.retain(|r| r.prefix != s.prefix);
            routes.push(Route {
                prefix: s.prefix.clone(),
                target: s.target.clone(),
                url,
            });
        }
        // Stable sort: equal lengths keep their configured order.
        routes.sort_by_key(|r| std::cmp::Reverse(r.prefix.len()));
        Ok(RouteTable { routes })
    }

    /// The route for a detail-type: the longest prefix that matches.
    pub fn lookup(&self, detail_type: &str) -> Option<&Route> {
        self.routes
            .iter()
            .find(|r| detail_type.starts_with(r.prefix.as_str()))
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The detail-type prefixes, for the AWS-mode rule pattern.
    pub fn prefixes(&self) -> Vec<String> {
        self.routes.iter().map(|r| r.prefix.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> RouteSpec {
        s.parse().unwrap()
    }

    #[test]
    fn longest_prefix_wins_and_no_match_is_none() {
        let t = RouteTable::new(&[
            spec("Ecom.=broad@http://127.0.0.1:1/"),
            spec("Ecom.MODIFY=narrow@http://127.0.0.1:2/"),
        ])
        .unwrap();
        assert_eq!(t.lookup("Ecom.MODIFY").unwrap().target, "narrow");
        assert_eq!(t.lookup("Ecom.INSERT").unwrap().target, "broad");
        assert!(t.lookup("Other.INSERT").is_none());
        assert!(t.lookup("Ecom").is_none());
    }

    #[test]
    fn same_prefix_later_wins() {
        let t = RouteTable::new(&[spec("A.=one@http://h/"), spec("A.=two@http://h/")]).unwrap();
        assert_eq!(t.routes().len(), 1);
        assert_eq!(t.lookup("A.x").unwrap().target, "two");
    }
}
