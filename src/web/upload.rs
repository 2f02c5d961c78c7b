//! Reading one file out of a multipart upload, with a size limit checked while streaming.

use actix_multipart::Multipart;
use futures_util::StreamExt;

use crate::error::{AppError, AppResult};

pub struct Upload {
    pub field: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// The first file field among `names` (other fields are collected as text into `fields`).
/// More than `limit` bytes is a 413 before the rest is read.
pub async fn read(
    mut multipart: Multipart,
    names: &[&str],
    limit: usize,
    fields: &mut Vec<(String, String)>,
) -> AppResult<Option<Upload>> {
    let mut found = None;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| AppError::BadRequest(format!("the upload could not be read: {e}")))?;
        let name = field.name().unwrap_or("").to_owned();
        let file_name = field.content_disposition().and_then(|d| d.get_filename()).map(str::to_owned);
        let mut buf = Vec::new();
        let cap = if file_name.is_some() { limit } else { 64 * 1024 };
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| AppError::BadRequest(format!("the upload was interrupted: {e}")))?;
            if buf.len() + chunk.len() > cap {
                return Err(AppError::PayloadTooLarge(format!("files are limited to {} MB", limit / 1024 / 1024)));
            }
            buf.extend_from_slice(&chunk);
        }
        match file_name {
            Some(f) if found.is_none() && names.contains(&name.as_str()) => {
                found = Some(Upload { field: name, file_name: f, bytes: buf })
            }
            Some(_) => {}
            None => fields.push((name, String::from_utf8_lossy(&buf).into_owned())),
        }
    }
    Ok(found)
}

/// Every file of field `name` (at most `max_files`, each at most `limit` bytes); other text
/// fields go into `fields`, files of other fields are dropped.
pub async fn read_files(
    mut multipart: Multipart,
    name: &str,
    limit: usize,
    max_files: usize,
    fields: &mut Vec<(String, String)>,
) -> AppResult<Vec<Upload>> {
    let mut files = Vec::new();
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|e| AppError::BadRequest(format!("the upload could not be read: {e}")))?;
        let field_name = field.name().unwrap_or("").to_owned();
        let file_name = field.content_disposition().and_then(|d| d.get_filename()).map(str::to_owned);
        let cap = if file_name.is_some() { limit } else { 256 * 1024 };
        let mut buf = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| AppError::BadRequest(format!("the upload was interrupted: {e}")))?;
            if buf.len() + chunk.len() > cap {
                return Err(AppError::PayloadTooLarge(format!("each file is limited to {} MB", limit / 1024 / 1024)));
            }
            buf.extend_from_slice(&chunk);
        }
        match file_name {
            // A file input left empty still sends a part with an empty name and no bytes.
            Some(f) if field_name == name && !(f.is_empty() && buf.is_empty()) => {
                if files.len() == max_files {
                    return Err(AppError::field(name, format!("at most {max_files} files")));
                }
                files.push(Upload { field: field_name, file_name: f, bytes: buf });
            }
            Some(_) => {}
            None => fields.push((field_name, String::from_utf8_lossy(&buf).into_owned())),
        }
    }
    Ok(files)
}
