//! TAXII client tests against a fake transport serving recorded-looking TAXII 2.1 responses
//! (shapes as in the TAXII 2.1 specification's examples and as OASIS medallion sends them).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use super::*;
use crate::model::IndicatorMeta;

/// One recorded request: URL and headers.
type Request = (String, Vec<(String, String)>);

/// Serves canned responses by exact URL and records every request.
#[derive(Default)]
struct Fake {
    routes: HashMap<String, Response>,
    requests: RefCell<Vec<Request>>,
}

impl Fake {
    fn route(mut self, url: &str, status: u16, headers: &[(&str, &str)], body: &str) -> Self {
        self.routes.insert(
            url.to_owned(),
            Response {
                status,
                headers: headers
                    .iter()
                    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                    .collect(),
                body: body.as_bytes().to_vec(),
            },
        );
        self
    }

    fn urls(&self) -> Vec<String> {
        self.requests
            .borrow()
            .iter()
            .map(|(u, _)| u.clone())
            .collect()
    }
}

impl Transport for Fake {
    fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Response, TransportError> {
        self.requests.borrow_mut().push((
            url.to_owned(),
            headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        ));
        self.routes
            .get(url)
            .cloned()
            .ok_or_else(|| TransportError(format!("connection refused ({url})")))
    }
}

const CT: (&str, &str) = ("Content-Type", "application/taxii+json;version=2.1");
const SERVER: &str = "https://taxii.cert.example:6100";

const DISCOVERY: &str = r#"{
  "title": "CERT TAXII Server",
  "description": "Indicator sharing for members",
  "contact": "soc@cert.example",
  "default": "https://taxii.cert.example:6100/api1/",
  "api_roots": ["https://taxii.cert.example:6100/api1/", "/trustgroup1/"]
}"#;

const API_ROOT: &str = r#"{
  "title": "Malware Research Group",
  "description": "A trust group setup for malware researchers",
  "versions": ["application/taxii+json;version=2.1"],
  "max_content_length": 104857600
}"#;

const COLLECTIONS: &str = r#"{
  "collections": [
    {
      "id": "91a7b528-80eb-42ed-a74d-c6fbd5a26116",
      "title": "High Value Indicator Collection",
      "description": "This data collection is for collecting high value IOCs",
      "can_read": true,
      "can_write": false,
      "media_types": ["application/stix+json;version=2.1"]
    },
    {
      "id": "52892447-4d7e-4f70-b94d-d7f22742ff63",
      "title": "Write-only drop box",
      "can_read": false,
      "can_write": true
    }
  ]
}"#;

fn indicator(n: u32, pattern: &str) -> String {
    format!(
        r#"{{"type": "indicator", "spec_version": "2.1",
            "id": "indicator--{n:08x}-0000-4000-8000-000000000000",
            "created": "2024-03-01T10:00:00.000Z", "modified": "2024-03-01T10:00:00.000Z",
            "name": "C2 {n}", "indicator_types": ["malicious-activity"],
            "pattern": "{pattern}", "pattern_type": "stix",
            "valid_from": "2024-03-01T10:00:00Z",
            "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}}"#
    )
}

fn page(more: bool, next: Option<&str>, objects: &[String]) -> String {
    let next = next
        .map(|n| format!(r#""next": "{n}", "#))
        .unwrap_or_default();
    format!(
        r#"{{"more": {more}, {next}"objects": [{}]}}"#,
        objects.join(",")
    )
}

const OBJECTS: &str = "https://taxii.cert.example:6100/api1/collections/91a7b528-80eb-42ed-a74d-c6fbd5a26116/objects/";
const COLLECTION: &str = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";

#[test]
fn discovery_api_root_collections() {
    let fake = Fake::default()
        .route(&format!("{SERVER}/taxii2/"), 200, &[CT], DISCOVERY)
        .route(&format!("{SERVER}/api1/"), 200, &[CT], API_ROOT)
        .route(
            &format!("{SERVER}/api1/collections/"),
            200,
            &[CT],
            COLLECTIONS,
        )
        .route(
            &format!("{SERVER}/trustgroup1/collections/"),
            200,
            &[CT],
            "{}",
        );
    let client = TaxiiClient::new(
        fake,
        Auth::Basic {
            user: "sensor".into(),
            password: "s3cret".into(),
        },
    );
    let d = client.discover(&format!("{SERVER}/taxii2/")).unwrap();
    assert_eq!(d.title, "CERT TAXII Server");
    assert_eq!(
        d.api_roots,
        [
            "https://taxii.cert.example:6100/api1/",
            "https://taxii.cert.example:6100/trustgroup1/"
        ]
    );
    let root = client.api_root(&d.api_roots[0]).unwrap();
    assert_eq!(root.versions, [MEDIA_TYPE]);
    assert_eq!(root.max_content_length, Some(104_857_600));
    let cols = client.collections(&d.api_roots[0]).unwrap();
    assert_eq!(cols.len(), 2);
    assert!(cols[0].can_read && !cols[1].can_read);
    assert!(client.collections(&d.api_roots[1]).unwrap().is_empty());
    // Every request carried the TAXII media type and basic auth.
    for (_, headers) in client.transport().requests.borrow().iter() {
        assert!(headers.contains(&("Accept".into(), MEDIA_TYPE.into())));
        assert!(headers.contains(&("Authorization".into(), "Basic c2Vuc29yOnMzY3JldA==".into())));
    }
    assert_eq!(format!("{:?}", Auth::Token("abc".into())), "Token(***)");
}

#[test]
fn poll_follows_next_and_loads_into_stix() {
    let p1 = page(
        true,
        Some("page-2"),
        &[
            indicator(1, "[ipv4-addr:value = '198.18.7.1']"),
            r#"{"type": "malware", "spec_version": "2.1", "id": "malware--1", "name": "X", "is_family": true}"#.to_owned(),
        ],
    );
    let p2 = page(
        false,
        None,
        &[indicator(
            2,
            "[domain-name:value = 'c2.evil.org'] OR [file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
        )],
    );
    let after = "2024-03-01T00:00:00.000Z";
    let q = "added_after=2024-03-01T00%3A00%3A00.000Z&limit=2";
    let fake = Fake::default()
        .route(
            &format!("{OBJECTS}?{q}"),
            200,
            &[
                CT,
                ("X-TAXII-Date-Added-First", "2024-03-01T10:00:00.000000Z"),
                ("X-TAXII-Date-Added-Last", "2024-03-01T10:00:01.000000Z"),
            ],
            &p1,
        )
        .route(
            &format!("{OBJECTS}?{q}&next=page-2"),
            200,
            &[
                CT,
                ("x-taxii-date-added-last", "2024-03-01T10:00:02.000000Z"),
            ],
            &p2,
        );
    let client = TaxiiClient::new(fake, Auth::Token("tok".into())).with_page_limit(2);
    let poll = client
        .poll(&format!("{SERVER}/api1"), COLLECTION, Some(after))
        .unwrap();
    assert_eq!(poll.pages, 2);
    assert_eq!(poll.objects.len(), 3);
    assert_eq!(
        poll.date_added_last.as_deref(),
        Some("2024-03-01T10:00:02.000000Z")
    );
    let (_, headers) = &client.transport().requests.borrow()[0];
    assert!(headers.contains(&("Authorization".into(), "Bearer tok".into())));

    let opts = LoadOptions {
        now: 1_710_000_000,
        ..LoadOptions::new(Arc::new(IndicatorMeta::default()))
    };
    let mut builder = IndicatorSetBuilder::new();
    let report = poll.load(&opts, &mut builder);
    assert_eq!(
        (
            report.accepted,
            report.unsupported_total,
            report.skipped_total()
        ),
        (2, 1, 1),
        "{report}"
    );
    let set = builder.build().unwrap();
    assert!(set.iter().all(|r| r.meta().tlp == crate::Tlp::Green));
}

#[test]
fn poll_advances_by_date_added_last_without_next() {
    let fake = Fake::default()
        .route(
            OBJECTS,
            200,
            &[CT, ("X-TAXII-Date-Added-Last", "2024-03-01T10:00:01.000Z")],
            &page(
                true,
                None,
                &[indicator(1, "[ipv4-addr:value = '198.18.7.1']")],
            ),
        )
        .route(
            &format!("{OBJECTS}?added_after=2024-03-01T10%3A00%3A01.000Z"),
            200,
            &[CT, ("X-TAXII-Date-Added-Last", "2024-03-01T10:00:02.000Z")],
            &page(
                false,
                None,
                &[indicator(2, "[ipv4-addr:value = '198.18.7.2']")],
            ),
        );
    let client = TaxiiClient::new(fake, Auth::None);
    let poll = client
        .poll(&format!("{SERVER}/api1/"), COLLECTION, None)
        .unwrap();
    assert_eq!((poll.pages, poll.objects.len()), (2, 2));
    assert!(
        client.transport().requests.borrow()[0]
            .1
            .iter()
            .all(|(n, _)| n != "Authorization")
    );
}

#[test]
fn pagination_that_does_not_advance_is_an_error() {
    // `more` forever with the same `next`.
    let looping = Fake::default()
        .route(OBJECTS, 200, &[CT], &page(true, Some("same"), &[]))
        .route(
            &format!("{OBJECTS}?next=same"),
            200,
            &[CT],
            &page(true, Some("same"), &[]),
        );
    let client = TaxiiClient::new(looping, Auth::None);
    let err = client
        .poll(&format!("{SERVER}/api1/"), COLLECTION, None)
        .unwrap_err();
    assert!(matches!(err, TaxiiError::Pagination { .. }), "{err}");
    // `more` without `next` or header.
    let stuck = Fake::default().route(OBJECTS, 200, &[CT], &page(true, None, &[]));
    let err = TaxiiClient::new(stuck, Auth::None)
        .poll(&format!("{SERVER}/api1/"), COLLECTION, None)
        .unwrap_err();
    assert!(err.to_string().contains("neither"), "{err}");
    // A page bound.
    let mut endless = Fake::default();
    let mut url = OBJECTS.to_owned();
    for i in 0..10 {
        let next = format!("p{i}");
        endless = endless.route(&url, 200, &[CT], &page(true, Some(&next), &[]));
        url = format!("{OBJECTS}?next={next}");
    }
    let err = TaxiiClient::new(endless, Auth::None)
        .with_max_pages(5)
        .poll(&format!("{SERVER}/api1/"), COLLECTION, None)
        .unwrap_err();
    assert!(err.to_string().contains("more than 5 pages"), "{err}");
}

#[test]
fn errors_map_to_kinds() {
    let fake = Fake::default()
        .route(
            &format!("{SERVER}/a/"),
            401,
            &[CT],
            r#"{"title": "Unauthorized"}"#,
        )
        .route(&format!("{SERVER}/b/"), 404, &[], "")
        .route(&format!("{SERVER}/c/"), 500, &[], "")
        .route(
            &format!("{SERVER}/d/"),
            200,
            &[("Content-Type", "text/html")],
            "<html>login</html>",
        )
        .route(&format!("{SERVER}/e/"), 200, &[CT], "{\"title\": ")
        .route(&format!("{SERVER}/f/"), 200, &[CT], r#"{"title": 5}"#);
    let c = TaxiiClient::new(fake, Auth::None);
    let at = |p: &str| format!("{SERVER}/{p}/");
    assert!(matches!(
        c.api_root(&at("a")),
        Err(TaxiiError::Unauthorized { status: 401, .. })
    ));
    assert!(matches!(
        c.api_root(&at("b")),
        Err(TaxiiError::NotFound { .. })
    ));
    assert!(matches!(
        c.api_root(&at("c")),
        Err(TaxiiError::Status { status: 500, .. })
    ));
    assert!(matches!(
        c.api_root(&at("d")),
        Err(TaxiiError::BadResponse { .. })
    ));
    assert!(matches!(
        c.api_root(&at("e")),
        Err(TaxiiError::BadResponse { .. })
    ));
    assert!(matches!(
        c.api_root(&at("f")),
        Err(TaxiiError::BadResponse { .. })
    ));
    assert!(matches!(
        c.api_root(&at("g")),
        Err(TaxiiError::Transport { .. })
    ));
    assert_eq!(c.transport().urls().len(), 7);
}

#[test]
fn url_helpers() {
    assert_eq!(
        encode("2024-03-01T00:00:00+01:00"),
        "2024-03-01T00%3A00%3A00%2B01%3A00"
    );
    assert_eq!(absolute("https://h:1/taxii2/", "/api/"), "https://h:1/api/");
    assert_eq!(
        absolute("https://h:1/taxii2/", "https://o/api/"),
        "https://o/api/"
    );
    assert_eq!(
        absolute("https://h:1/taxii2/", "api/"),
        "https://h:1/taxii2/api/"
    );
}
