//! The bearer token: with one configured, every mutating request needs it
//! and reads stay open; without one, nothing is asked.

use crate::common::Api;
use reqwest::Method;
use strand_rest::{BearerToken, RestConfig};

#[tokio::test]
async fn token_guards_every_mutating_route_and_leaves_reads_open() {
    let api = Api::start_with(RestConfig {
        token: BearerToken::new("s3cret-token\n"),
        ..RestConfig::default()
    })
    .await;
    let before = api.snapshot().await;
    // Every mutating route refuses a request without or with a wrong token,
    // before touching anything.
    for route in strand_rest::routes() {
        if route.verb == strand_rest::Verb::Get {
            continue;
        }
        let path = route
            .path
            .trim_start_matches(strand_rest::PREFIX)
            .replace("{cluster}", "C")
            .replace(['{', '}'], "");
        let method = route.verb.method();
        let missing = api.send(api.request(method.clone(), &path)).await;
        assert_eq!(missing.status, 401, "{method} {path}: {}", missing.text);
        assert!(missing.error().contains("Bearer"), "{}", missing.text);
        assert_eq!(
            missing
                .headers
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok()),
            Some("Bearer")
        );
        let wrong = api
            .send(
                api.request(method.clone(), &path)
                    .bearer_auth("s3cret-tokeN"),
            )
            .await;
        assert_eq!(wrong.status, 401, "{method} {path}: {}", wrong.text);
    }
    assert_eq!(before, api.snapshot().await);

    // Reads need no token.
    api.get("/clusters").await.expect(200);
    // The right token works.
    api.send(
        api.request(Method::PUT, "/clusters/C")
            .bearer_auth("s3cret-token"),
    )
    .await
    .expect(201);
    api.get("/clusters/C").await.expect(200);
    api.send(
        api.request(Method::DELETE, "/clusters/C")
            .bearer_auth("s3cret-token"),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn without_a_token_nothing_is_asked() {
    let api = Api::start().await;
    api.put("/clusters/C", "").await.expect(201);
    // A stray Authorization header is ignored when no token is configured.
    api.send(
        api.request(Method::POST, "/clusters/C?command=disable")
            .bearer_auth("anything"),
    )
    .await
    .expect(200);
    assert!(
        BearerToken::new("  \n").is_none(),
        "an empty token is no token"
    );
}
