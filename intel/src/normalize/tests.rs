//! Normalisation rules as tables of named cases.

use std::collections::HashSet;

use super::*;

struct DomainCase {
    name: &'static str,
    input: &'static str,
    /// `Ok((name, subdomains))` or `Err(substring of the reason)`.
    expect: Result<(&'static str, bool), &'static str>,
}

const DOMAIN_CASES: &[DomainCase] = &[
    DomainCase {
        name: "plain",
        input: "evil.example",
        expect: Ok(("evil.example", false)),
    },
    DomainCase {
        name: "trim_lower_dot",
        input: "  Evil.EXAMPLE. ",
        expect: Ok(("evil.example", false)),
    },
    DomainCase {
        name: "wildcard",
        input: "*.Evil.example",
        expect: Ok(("evil.example", true)),
    },
    DomainCase {
        name: "underscore",
        input: "_dmarc.example.com",
        expect: Ok(("_dmarc.example.com", false)),
    },
    DomainCase {
        name: "punycode",
        input: "xn--bcher-kva.example",
        expect: Ok(("xn--bcher-kva.example", false)),
    },
    DomainCase {
        name: "single_label",
        input: "localhost",
        expect: Ok(("localhost", false)),
    },
    DomainCase {
        name: "empty",
        input: "   ",
        expect: Err("empty"),
    },
    DomainCase {
        name: "only_dot",
        input: ".",
        expect: Err("empty"),
    },
    DomainCase {
        name: "empty_label",
        input: "a..example",
        expect: Err("empty label"),
    },
    DomainCase {
        name: "leading_dot",
        input: ".example",
        expect: Err("empty label"),
    },
    DomainCase {
        name: "two_trailing_dots",
        input: "example..",
        expect: Err("empty label"),
    },
    DomainCase {
        name: "space",
        input: "evil example.com",
        expect: Err("' '"),
    },
    DomainCase {
        name: "slash",
        input: "evil.example/path",
        expect: Err("'/'"),
    },
    DomainCase {
        name: "colon",
        input: "evil.example:80",
        expect: Err("':'"),
    },
    DomainCase {
        name: "non_ascii",
        input: "bücher.example",
        expect: Err("punycode"),
    },
    DomainCase {
        name: "inner_wildcard",
        input: "a.*.example",
        expect: Err("leading"),
    },
    DomainCase {
        name: "label_64",
        input: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
        expect: Err("63 allowed"),
    },
    DomainCase {
        name: "label_63",
        input: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
        expect: Ok((
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
            false,
        )),
    },
];

struct UrlCase {
    name: &'static str,
    input: &'static str,
    expect: Result<&'static str, &'static str>,
}

const URL_CASES: &[UrlCase] = &[
    UrlCase {
        name: "https_scheme",
        input: "https://api.msuto.com/",
        expect: Ok("api.msuto.com/"),
    },
    UrlCase {
        name: "empty_path",
        input: "http://Evil.Example",
        expect: Ok("evil.example/"),
    },
    UrlCase {
        name: "no_scheme",
        input: "evil.example/a/B?x=Y",
        expect: Ok("evil.example/a/B?x=Y"),
    },
    UrlCase {
        name: "query_only",
        input: "http://evil.example?naps",
        expect: Ok("evil.example/?naps"),
    },
    UrlCase {
        name: "fragment_dropped",
        input: "https://x.example/p#frag",
        expect: Ok("x.example/p"),
    },
    UrlCase {
        name: "userinfo_dropped",
        input: "http://user:pw@x.example/p",
        expect: Ok("x.example/p"),
    },
    UrlCase {
        name: "default_port_http",
        input: "http://x.example:80/p",
        expect: Ok("x.example/p"),
    },
    UrlCase {
        name: "default_port_https",
        input: "HTTPS://x.example:443/p",
        expect: Ok("x.example/p"),
    },
    UrlCase {
        name: "https_port_80_kept",
        input: "https://x.example:80/p",
        expect: Ok("x.example:80/p"),
    },
    UrlCase {
        name: "no_scheme_port_80",
        input: "x.example:80/p",
        expect: Ok("x.example/p"),
    },
    UrlCase {
        name: "other_port",
        input: "http://x.example:8080/p",
        expect: Ok("x.example:8080/p"),
    },
    UrlCase {
        name: "port_leading_zero",
        input: "http://x.example:08080/p",
        expect: Ok("x.example:8080/p"),
    },
    UrlCase {
        name: "empty_port",
        input: "http://x.example:/p",
        expect: Ok("x.example/p"),
    },
    UrlCase {
        name: "other_scheme",
        input: "ftp://x.example:21/f",
        expect: Ok("x.example:21/f"),
    },
    UrlCase {
        name: "host_trailing_dot",
        input: "http://x.example./p",
        expect: Ok("x.example/p"),
    },
    UrlCase {
        name: "unreserved_decoded",
        input: "http://x.example/%41%7e%2d",
        expect: Ok("x.example/A~-"),
    },
    UrlCase {
        name: "reserved_uppercased",
        input: "http://x.example/a%2fb?q=%3d",
        expect: Ok("x.example/a%2Fb?q=%3D"),
    },
    UrlCase {
        name: "bad_escape_encoded",
        input: "http://x.example/%zz%4",
        expect: Ok("x.example/%25zz%254"),
    },
    UrlCase {
        name: "ipv6_host",
        input: "http://[2001:DB8::1]:8080/",
        expect: Ok("[2001:db8::1]:8080/"),
    },
    UrlCase {
        name: "ipv6_default_port",
        input: "http://[::1]:80/x",
        expect: Ok("[::1]/x"),
    },
    UrlCase {
        name: "path_case_kept",
        input: "HTTP://X.EXAMPLE/Login.PHP",
        expect: Ok("x.example/Login.PHP"),
    },
    UrlCase {
        name: "url_empty",
        input: "  ",
        expect: Err("empty"),
    },
    UrlCase {
        name: "no_host",
        input: "http:///path",
        expect: Err("no host"),
    },
    UrlCase {
        name: "bad_port",
        input: "http://x.example:99999/",
        expect: Err("port"),
    },
    UrlCase {
        name: "space_inside",
        input: "http://x.example/a b",
        expect: Err("whitespace"),
    },
    UrlCase {
        name: "unclosed_bracket",
        input: "http://[::1/x",
        expect: Err("']'"),
    },
];

#[test]
fn case_names_are_unique() {
    let mut seen = HashSet::new();
    for name in DOMAIN_CASES
        .iter()
        .map(|c| c.name)
        .chain(URL_CASES.iter().map(|c| c.name))
    {
        assert!(seen.insert(name), "duplicate case name {name}");
    }
}

#[test]
fn domain_cases() {
    let mut failures = Vec::new();
    for case in DOMAIN_CASES {
        let got = domain(case.input);
        let ok = match (&got, case.expect) {
            (Ok((name, wild)), Ok((want, want_wild))) => name == want && *wild == want_wild,
            (Err(e), Err(want)) => e.to_string().contains(want),
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{}: {:?} → {got:?}, expected {:?}",
                case.name, case.input, case.expect
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn url_cases() {
    let mut failures = Vec::new();
    for case in URL_CASES {
        let got = url(case.input);
        let ok = match (&got, case.expect) {
            (Ok(u), Ok(want)) => u == want,
            (Err(e), Err(want)) => e.to_string().contains(want),
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{}: {:?} → {got:?}, expected {:?}",
                case.name, case.input, case.expect
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Normalising twice changes nothing, except for a non-default port of a non-http scheme that
/// equals http's default (`https://x:80/` → `x:80/` → `x/`): the scheme-less result is read as
/// http. Such a URL is TLS on port 80, whose URL the agent never sees, so nothing is lost.
#[test]
fn url_is_idempotent() {
    for case in URL_CASES.iter().filter(|c| c.name != "https_port_80_kept") {
        if let Ok(once) = url(case.input) {
            assert_eq!(url(&once).as_deref(), Ok(once.as_str()), "{}", case.name);
        }
    }
}

#[test]
fn long_domain_rejected() {
    let name = vec!["abcdefghi"; 26].join(".");
    assert!(name.len() > MAX_DOMAIN_LEN);
    assert!(matches!(
        domain(&name),
        Err(NormalizeError::DomainTooLong { .. })
    ));
}
