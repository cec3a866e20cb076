//! [`RecordingObjects`]: where recordings' Ogg/Opus bytes live — a directory in development
//! and tests, any S3-compatible bucket in production — behind one API (`object_store`), so the
//! bridge's save, the API's range reads and the purge do not care which.

use bytes::Bytes;
use domain::Secret;
use object_store::{ObjectStore, aws::AmazonS3Builder, local::LocalFileSystem, path::Path};
use std::{ops::Range, sync::Arc};

/// The object store failed or refused (its message; never a credential).
#[derive(Debug, thiserror::Error)]
pub enum ObjectsError {
    #[error("recording object not found")]
    NotFound,
    #[error("recording storage: {0}")]
    Storage(String),
}

impl From<object_store::Error> for ObjectsError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => Self::NotFound,
            other => Self::Storage(other.to_string()),
        }
    }
}

/// An S3-compatible bucket (AWS, MinIO, R2, …).
#[derive(Debug, Clone)]
pub struct S3Settings {
    pub bucket: String,
    /// `None`: AWS itself; otherwise the store's URL (`https://minio.internal:9000`).
    pub endpoint: Option<String>,
    pub region: String,
    /// `None`: the instance's or environment's own credentials.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret<String>>,
}

#[derive(Clone, Debug)]
pub struct RecordingObjects {
    inner: Arc<dyn ObjectStore>,
}

impl RecordingObjects {
    /// Objects as files under `dir` (created if missing).
    pub fn local(dir: &std::path::Path) -> Result<Self, ObjectsError> {
        std::fs::create_dir_all(dir).map_err(|e| ObjectsError::Storage(e.to_string()))?;
        let fs = LocalFileSystem::new_with_prefix(dir)?.with_automatic_cleanup(true);
        Ok(Self {
            inner: Arc::new(fs),
        })
    }

    /// Objects in an S3-compatible bucket.
    pub fn s3(settings: &S3Settings) -> Result<Self, ObjectsError> {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region);
        if let Some(endpoint) = &settings.endpoint {
            builder = builder
                .with_allow_http(endpoint.starts_with("http://"))
                .with_endpoint(endpoint);
        }
        if let (Some(id), Some(secret)) = (&settings.access_key_id, &settings.secret_access_key) {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret.expose());
        }
        Ok(Self {
            inner: Arc::new(builder.build()?),
        })
    }

    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), ObjectsError> {
        self.inner.put(&Path::from(key), bytes.into()).await?;
        Ok(())
    }

    /// Bytes `range` of the object (the caller checked the range against its size).
    pub async fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes, ObjectsError> {
        Ok(self.inner.get_range(&Path::from(key), range).await?)
    }

    /// Deletes the object; one already gone is not an error (a retried purge).
    pub async fn delete(&self, key: &str) -> Result<(), ObjectsError> {
        match self.inner.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the object exists.
    pub async fn exists(&self, key: &str) -> Result<bool, ObjectsError> {
        match self.inner.head(&Path::from(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}
