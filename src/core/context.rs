//! What the shell tells the core about the page at the moment of an event, and how it becomes
//! the Segment `context` object (`context.page`, `context.campaign` from UTM parameters…).
//!
//! Must not touch: the DOM. The shell reads `location`, `document` and `navigator` and hands
//! the strings over.

use crate::core::json::ObjectWriter;

pub const LIBRARY_NAME: &str = "cartsense";
pub const LIBRARY_VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PageContext {
    /// `location.href`
    pub url: String,
    /// `location.pathname`
    pub path: String,
    /// `location.search`, with its leading `?`
    pub search: String,
    pub title: String,
    pub referrer: String,
    pub user_agent: String,
    /// `navigator.language`
    pub locale: String,
}

/// UTM parameter → Segment `context.campaign` key.
const UTM_KEYS: [(&str, &str); 5] = [
    ("utm_source", "source"),
    ("utm_medium", "medium"),
    ("utm_campaign", "name"),
    ("utm_term", "term"),
    ("utm_content", "content"),
];

impl PageContext {
    /// The page's UTM parameters as `(campaign key, decoded value)`, in Segment's naming.
    pub fn campaign(&self) -> Vec<(&'static str, String)> {
        let query = self.search.strip_prefix('?').unwrap_or(&self.search);
        let mut found = Vec::new();
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            if let Some((_, key)) = UTM_KEYS.iter().find(|(utm, _)| *utm == name) {
                if !found.iter().any(|(k, _)| k == key) {
                    found.push((*key, percent_decode(value)));
                }
            }
        }
        found
    }

    /// Writes Segment's page fields (`path`, `referrer`, `search`, `title`, `url`).
    pub fn write_page_fields(&self, w: &mut ObjectWriter) {
        w.string("path", &self.path)
            .string("referrer", &self.referrer)
            .string("search", &self.search)
            .string("title", &self.title)
            .string("url", &self.url);
    }

    /// Writes the `context` object of a wire item.
    pub fn write_context(&self, w: &mut ObjectWriter, session_id: &str) {
        let mut context = w.object("context");
        {
            let mut library = context.object("library");
            library.string("name", LIBRARY_NAME).string("version", LIBRARY_VERSION);
            library.finish();
        }
        {
            let mut page = context.object("page");
            self.write_page_fields(&mut page);
            page.finish();
        }
        let campaign = self.campaign();
        if !campaign.is_empty() {
            let mut c = context.object("campaign");
            for (key, value) in &campaign {
                c.string(key, value);
            }
            c.finish();
        }
        if !self.user_agent.is_empty() {
            context.string("userAgent", &self.user_agent);
        }
        if !self.locale.is_empty() {
            context.string("locale", &self.locale);
        }
        context.string("sessionId", session_id);
        context.finish();
    }
}

/// Decodes `application/x-www-form-urlencoded` text; invalid escapes stay as they were and
/// invalid UTF-8 becomes U+FFFD.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json;

    #[test]
    fn utm_parameters_become_the_campaign() {
        let page = PageContext {
            search: "?utm_source=news%20letter&x=1&utm_medium=email&utm_campaign=black+friday&utm_source=ignored"
                .into(),
            ..PageContext::default()
        };
        assert_eq!(
            page.campaign(),
            vec![
                ("source", "news letter".to_string()),
                ("medium", "email".to_string()),
                ("name", "black friday".to_string())
            ]
        );
        assert!(PageContext::default().campaign().is_empty());
    }

    #[test]
    fn percent_decoding_tolerates_bad_escapes() {
        assert_eq!(percent_decode("a%2Fb%zz%"), "a/b%zz%");
        assert_eq!(percent_decode("%E2%82%AC"), "€");
        assert_eq!(percent_decode("%ff"), "\u{FFFD}");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%41"), "A");
    }

    #[test]
    fn context_is_valid_json_with_library_and_page() {
        let page = PageContext {
            url: "https://shop.example/p/1?utm_source=x".into(),
            path: "/p/1".into(),
            search: "?utm_source=x".into(),
            title: "A \"quoted\" title".into(),
            referrer: String::new(),
            user_agent: "UA".into(),
            locale: "de-DE".into(),
        };
        let mut out = String::new();
        let mut w = ObjectWriter::new(&mut out);
        page.write_context(&mut w, "s1");
        w.finish();
        let value = json::parse(&out).unwrap();
        let context = value.get("context").unwrap();
        assert_eq!(
            context.get("library").unwrap().get("name").unwrap().as_str(),
            Some("cartsense")
        );
        assert_eq!(
            context.get("page").unwrap().get("title").unwrap().as_str(),
            Some("A \"quoted\" title")
        );
        assert_eq!(
            context.get("campaign").unwrap().get("source").unwrap().as_str(),
            Some("x")
        );
        assert_eq!(context.get("sessionId").unwrap().as_str(), Some("s1"));
        assert_eq!(context.get("locale").unwrap().as_str(), Some("de-DE"));
    }
}
