//! Product images and attached files: real images get thumbnails; scripts, fakes and huge
//! files are refused; attached files are served only as downloads; media stay in their store.

use serde_json::json;

use crate::catalog::{api, product, staff};
use crate::helpers::{TestApp, TestTenant};

async fn upload(
    app: &TestApp,
    t: &TestTenant,
    token: &str,
    path: &str,
    field: &str,
    name: &str,
    bytes: &[u8],
) -> (u16, String) {
    let boundary = "----tradeport-media-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nСертификат соответствия\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let req = app
        .request(awc::http::Method::POST, &api(t, path))
        .insert_header(("Content-Type", format!("multipart/form-data; boundary={boundary}")))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .timeout(std::time::Duration::from_secs(60));
    let r = app.send_bytes(req, body).await;
    (r.status.as_u16(), r.body)
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(w, h, image::Rgb([20, 120, 200]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).expect("png");
    out.into_inner()
}

#[actix_web::test]
async fn images_get_thumbnails_and_nothing_scriptable_is_served_inline() {
    let app = TestApp::spawn().await;
    let t = app.new_tenant().await;
    let other = app.new_tenant().await;
    let s = staff(&app, &t).await;
    product(&app, &t, &s, json!({"sku": "IMG-1", "name": "Окно с картинкой", "price": "100"})).await;

    let (status, body) =
        upload(&app, &t, &s, "/admin/products/IMG-1/images", "image", "photo.png", &png(1200, 800)).await;
    assert_eq!(status, 201, "{body}");
    let id = serde_json::from_str::<serde_json::Value>(&body).expect("json")["id"].as_i64().expect("id");
    let p = app.get(&api(&t, "/products/IMG-1"), None).await.json();
    assert_eq!(p["images"][0]["width"], 1200, "{p}");
    let thumb = app.get(&format!("/s/{}/products/IMG-1/images/{id}/thumb", t.slug), None).await;
    assert_eq!((thumb.status.as_u16(), thumb.header("content-type").as_deref()), (200, Some("image/jpeg")));
    let full = app.get(&format!("/s/{}/products/IMG-1/images/{id}", t.slug), None).await;
    assert_eq!(full.header("content-type").as_deref(), Some("image/png"));
    // The listing shows the first image.
    let list = app.get(&api(&t, "/products"), None).await.json();
    assert!(list["items"][0]["image"].as_str().is_some_and(|u| u.ends_with("/thumb")), "{list}");
    // Another store cannot reach it by id, with or without the SKU.
    assert_eq!(app.get(&format!("/s/{}/products/IMG-1/images/{id}", other.slug), None).await.status, 404);

    // SVG with script, HTML named .png, a truncated PNG: refused with a clear message.
    for (name, bytes) in [
        ("x.svg", br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec()),
        ("x.png", b"<html><script>alert(1)</script></html>".to_vec()),
        ("x.png", png(10, 10)[..40].to_vec()),
    ] {
        let (status, body) = upload(&app, &t, &s, "/admin/products/IMG-1/images", "image", name, &bytes).await;
        assert_eq!(status, 422, "{name}: {body}");
        assert!(body.contains("PNG, JPEG, WebP or GIF"), "{body}");
    }
    // Too large in bytes (413 before the rest is read) and in pixels (a decompression bomb).
    let (status, _) =
        upload(&app, &t, &s, "/admin/products/IMG-1/images", "image", "big.png", &vec![7u8; 11 * 1024 * 1024]).await;
    assert_eq!(status, 413);
    let (status, body) =
        upload(&app, &t, &s, "/admin/products/IMG-1/images", "image", "bomb.png", &png(9000, 10)).await;
    assert_eq!(status, 413, "{body}");
    let p = app.get(&api(&t, "/products/IMG-1"), None).await.json();
    assert_eq!(p["images"].as_array().map(Vec::len), Some(1), "nothing else was stored");

    // An attached "certificate" that is really HTML: stored, but only ever downloaded.
    let (status, body) = upload(
        &app,
        &t,
        &s,
        "/admin/products/IMG-1/files",
        "file",
        "../../cert<script>.html",
        b"<script>alert(1)</script>",
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let p = app.get(&api(&t, "/products/IMG-1"), None).await.json();
    let url = p["files"][0]["url"].as_str().expect("file url").to_owned();
    assert_eq!(p["files"][0]["name"], "certscript.html");
    assert_eq!(p["files"][0]["title"], "Сертификат соответствия");
    let path = url
        .split_once("127.0.0.1")
        .map(|(_, rest)| rest.trim_start_matches(|c: char| c == ':' || c.is_ascii_digit()))
        .unwrap_or(&url);
    let path = url.strip_prefix("http://localhost:8080").unwrap_or(path);
    let f = app.get(path, None).await;
    assert_eq!(f.status, 200, "{path}");
    assert_eq!(f.header("content-type").as_deref(), Some("application/octet-stream"));
    assert!(f.header("content-disposition").is_some_and(|d| d.starts_with("attachment;")));
    assert!(f.header("content-security-policy").is_some_and(|c| c.contains("sandbox")));
    // Buyers cannot upload.
    let (b, _) = crate::catalog::buyer(&app, &t, crate::identity::INNS[5]).await;
    let (status, _) = upload(&app, &t, &b, "/admin/products/IMG-1/images", "image", "p.png", &png(10, 10)).await;
    assert_eq!(status, 403);
}
