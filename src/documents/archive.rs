//! The archive of a period's documents as one zip, streamed: a blocking task loads the
//! documents in batches, draws each PDF, and writes it into the zip, whose bytes go through a
//! small bounded channel into the response body. At most one batch and one 64 KB chunk are
//! held at a time, however many documents the period has.

use std::io::Write;

use bytes::Bytes;
use tokio::sync::mpsc;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::render::{self, Drawable};
use crate::db::{in_tenant, PgPool, TenantSchema};
use crate::error::AppResult;
use crate::pdf::Fonts;

/// Documents loaded per transaction.
pub const BATCH: usize = 50;
const CHUNK: usize = 64 * 1024;

/// Writes into the channel in chunks; a closed channel (the client left) stops the writer.
struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client gone"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Everything a zip entry needs: the PDF drawn, and the XML as stored.
fn entries(d: &Drawable, pdf: Vec<u8>, xml: Option<(String, Vec<u8>)>) -> Vec<(String, Vec<u8>, bool)> {
    let mut out = vec![(render::file_name(d, "pdf"), pdf, false)];
    if let Some((name, bytes)) = xml {
        out.push((name, bytes, true));
    }
    out
}

/// Draws a batch's PDFs on every core (drawing is the archive's cost: a УПД takes several
/// milliseconds of CPU), in the batch's order.
fn draw_all(fonts: &Fonts, drawables: &[Drawable]) -> Vec<AppResult<Vec<u8>>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    if threads == 1 || drawables.len() < 2 {
        return drawables.iter().map(|d| render::pdf(fonts, d)).collect();
    }
    let per = drawables.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = drawables
            .chunks(per)
            .map(|chunk| {
                (chunk.len(), s.spawn(move || chunk.iter().map(|d| render::pdf(fonts, d)).collect::<Vec<_>>()))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|(n, h)| {
                h.join().unwrap_or_else(|_| {
                    (0..n)
                        .map(|_| Err(crate::error::AppError::Internal(anyhow::anyhow!("drawing a document failed"))))
                        .collect()
                })
            })
            .collect()
    })
}

fn write_all(pool: &PgPool, schema: &TenantSchema, fonts: &Fonts, ids: &[i64], w: ChannelWriter) -> anyhow::Result<()> {
    let mut zip = ZipWriter::new_stream(w);
    // PDFs are deflated inside already; XML compresses well.
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for batch in ids.chunks(BATCH) {
        let batch = batch.to_vec();
        let mut conn = pool.get()?;
        conn.note_tenant(schema.as_str());
        let loaded = in_tenant(&mut conn, schema, |c| {
            let rows = super::content_of(c, &batch)?;
            let xml: Vec<(i64, Option<String>, Option<Vec<u8>>)> = {
                use crate::db::schema_tenant::documents as d;
                use diesel::prelude::*;
                d::table.filter(d::id.eq_any(&batch)).select((d::id, d::xml_name, d::xml)).load(c)?
            };
            let drawables = render::prepare(c, schema.as_str(), rows)?;
            Ok((drawables, xml))
        })?;
        drop(conn);
        let (drawables, mut xml) = loaded;
        let pdfs = draw_all(fonts, &drawables);
        for (d, pdf) in drawables.iter().zip(pdfs) {
            let x = xml.iter_mut().find(|(id, _, _)| *id == d.id).and_then(|(_, n, b)| n.take().zip(b.take()));
            for (name, bytes, compress) in entries(d, pdf?, x) {
                zip.start_file(name, if compress { deflated } else { stored })?;
                zip.write_all(&bytes)?;
            }
        }
    }
    let mut w = zip.finish()?.into_inner();
    w.flush()?;
    Ok(())
}

/// Starts writing the archive of `ids` (oldest first); the answer is the body's stream.
pub fn stream(
    pool: PgPool,
    schema: TenantSchema,
    fonts: std::sync::Arc<Fonts>,
    ids: Vec<i64>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let failed = tx.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let w = ChannelWriter { tx, buf: Vec::with_capacity(CHUNK) };
        if let Err(e) = write_all(&pool, &schema, &fonts, &ids, w) {
            tracing::warn!(error = %e, "document archive stopped");
            // The body ends with an error: the client sees a broken download, never a short zip.
            let _ = failed.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) })
}
