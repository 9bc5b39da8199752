//! Files the box office writes for people (receipts, ticket PDFs, printer output): readable by
//! their owner only, never written through a symbolic link someone planted, and never over a
//! file that is there unless the caller asked to replace it.

use std::io::Write;
use std::path::Path;

/// What became of a file asked for with [`write_private`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// A file already there is refused (`AlreadyExists`): nothing is written.
    Keep,
    /// A file already there is replaced whole (a new file renamed over it: a symbolic link in
    /// its place is replaced, never followed).
    Replace,
}

#[cfg(unix)]
fn private(options: &mut std::fs::OpenOptions) -> &mut std::fs::OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    options.mode(0o600).custom_flags(libc::O_NOFOLLOW)
}

#[cfg(not(unix))]
fn private(options: &mut std::fs::OpenOptions) -> &mut std::fs::OpenOptions {
    options
}

/// Writes `bytes` as the file `path`, created with mode 0600 and synced. A new file is created
/// exclusively (`O_CREAT|O_EXCL` fails on any existing name, a dangling symbolic link
/// included); with [`Existing::Replace`] the bytes go to a new file beside it, renamed into
/// place.
pub fn write_private(path: &Path, bytes: &[u8], existing: Existing) -> std::io::Result<()> {
    let target = match existing {
        Existing::Keep => path.to_path_buf(),
        Existing::Replace => {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            path.with_file_name(format!(
                ".{}.{}.tmp",
                name.unwrap_or_default(),
                uuid::Uuid::new_v4().simple()
            ))
        }
    };
    let mut file =
        private(std::fs::OpenOptions::new().write(true).create_new(true)).open(&target)?;
    let written = file.write_all(bytes).and_then(|_| file.sync_all());
    drop(file);
    let placed = written.and_then(|_| match existing {
        Existing::Keep => Ok(()),
        Existing::Replace => std::fs::rename(&target, path),
    });
    if placed.is_err() {
        let _ = std::fs::remove_file(&target);
    }
    placed
}

/// Creates `path` and its parents as needed, new ones with mode 0700 (the owner's only).
pub fn private_dir(path: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(path)
}

/// Opens `path` to append to (a receipt printer's device node, or a file standing in for one):
/// created with mode 0600 if it is not there, and refused if it is a symbolic link.
pub fn open_append_private(path: &Path) -> std::io::Result<std::fs::File> {
    private(std::fs::OpenOptions::new().append(true).create(true)).open(path)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_file_is_the_owners_never_through_a_link_never_over_another_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("receipt.txt");
        write_private(&path, b"one", Existing::Keep).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let err = write_private(&path, b"two", Existing::Keep).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        write_private(&path, b"two", Existing::Replace).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        // A planted link: neither writing nor replacing touches what it points to.
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let link = dir.path().join("link.pdf");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        assert!(write_private(&link, b"x", Existing::Keep).is_err());
        assert!(open_append_private(&link).is_err());
        write_private(&link, b"x", Existing::Replace).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert!(!std::fs::symlink_metadata(&link).unwrap().is_symlink());
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(left.len(), 3, "no temporary file left: {left:?}");
        let printer = dir.path().join("printer");
        open_append_private(&printer).unwrap();
        let mode = std::fs::metadata(&printer).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
