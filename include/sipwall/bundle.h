/* sipwall — signed bundles: one file that carries a whole policy (its
 * files, includes and lists), the location feed and partner data, with a
 * manifest signed with Ed25519 (OpenSSL 3 libcrypto).  sipwalld configured
 * with `trust-key` and `bundle` loads policy only from a bundle that
 * verifies; `sipwall keygen` and `sipwall bundle sign|verify|show` make and
 * check them.  Format and workflow: docs/bundles.md.
 *
 * Layer: bundle sits beside policy (it needs only common and libcrypto);
 * sipwalld glues the two (the policy reads its files from the verified
 * bundle in memory through an sw_policy_source).
 *
 * A bundle is read as untrusted input: sw_bundle_parse checks the
 * structure within fixed ceilings and never trusts a length it has not
 * bounded; sw_bundle_verify then checks the signature over the manifest
 * and every file's SHA-256 against it; sw_bundle_check_version refuses
 * rollbacks against the last accepted version. */
#ifndef SIPWALL_BUNDLE_H
#define SIPWALL_BUNDLE_H

#include "sipwall/common.h"

/* Ceilings of the reader (and of the writer: it never makes a bundle the
 * reader would refuse). */
#define SW_BUNDLE_MAX_FILES 256
#define SW_BUNDLE_MAX_FILE (16u << 20)   /* one file */
#define SW_BUNDLE_MAX_TOTAL (64u << 20)  /* the whole bundle */
#define SW_BUNDLE_MAX_MANIFEST (64u << 10)
#define SW_BUNDLE_MAX_NAME 255
#define SW_BUNDLE_KEYID_LEN 16           /* hex digits */

/* Outcomes of reading and checking a bundle, X(ENUM, "name", "message").
 * The name is what events, metrics and `sipwall bundle verify` report. */
#define SW_BUNDLE_STATUS_LIST(X)                                                      \
    X(OK, "ok", "the bundle verifies")                                                \
    X(FORMAT, "format", "not a bundle, or a damaged one")                             \
    X(TOO_BIG, "too_big", "a ceiling of the bundle reader is exceeded")               \
    X(BAD_NAME, "bad_name", "a file name is absolute, has '..', or bad characters")   \
    X(UNSIGNED, "unsigned", "the bundle is not signed")                               \
    X(UNKNOWN_KEY, "unknown_key", "signed with a key that is not trusted")            \
    X(BAD_SIGNATURE, "bad_signature", "the signature does not verify")               \
    X(HASH_MISMATCH, "hash_mismatch", "a file does not match its manifest hash")      \
    X(ROLLBACK, "rollback", "the version is older than the last accepted one")       \
    X(REPLAY, "replay", "same version as the last accepted bundle, other contents")   \
    X(NOMEM, "nomem", "out of memory")                                                \
    X(IO, "io", "the bundle cannot be read")

typedef enum sw_bundle_status {
#define SW__BST_ENUM(id, name, msg) SW_BUNDLE_##id,
    SW_BUNDLE_STATUS_LIST(SW__BST_ENUM)
#undef SW__BST_ENUM
    SW_BUNDLE__COUNT
} sw_bundle_status;

/* "ok", "hash_mismatch" …; the message; NULL / "unknown" out of range. */
const char *sw_bundle_status_name(sw_bundle_status s);
const char *sw_bundle_status_message(sw_bundle_status s);

/* ---- keys ------------------------------------------------------------------
 * Ed25519 keys in PEM (PKCS#8 private, SubjectPublicKeyInfo public).  The
 * key id is the first 16 hex digits of SHA-256 over the 32-byte raw public
 * key. */
typedef struct sw_bundle_key sw_bundle_key;

/* Makes a new key pair: the private key at priv_path (created with O_EXCL
 * and O_NOFOLLOW, mode 0600: an existing file is never overwritten) and the
 * public key at pub_path (O_EXCL, 0644).  keyid receives the id.  SW_OK,
 * or SW_EIO / SW_ENOMEM with a message in err (a half-made pair is
 * removed). */
int sw_bundle_keygen(const char *priv_path, const char *pub_path,
                     char keyid[SW_BUNDLE_KEYID_LEN + 1], char *err, size_t errlen)
    SW_WUR SW_NONNULL(1, 2, 3, 4);

/* Loads a private key for signing.  Refuses a file that is not a regular
 * file or that group or others may read or write (mode must be 0600 or
 * stricter), and a key that is not Ed25519.  SW_OK and *out, or an error
 * with a message in err. */
int sw_bundle_key_load_private(const char *path, sw_bundle_key **out, char *err, size_t errlen)
    SW_WUR SW_NONNULL(1, 2, 3);
/* Loads a public (trust) key; a private key file is accepted too (its
 * public half is used).  Ed25519 only. */
int sw_bundle_key_load_public(const char *path, sw_bundle_key **out, char *err, size_t errlen)
    SW_WUR SW_NONNULL(1, 2, 3);
void sw_bundle_key_free(sw_bundle_key *k);
/* The key id, 16 lowercase hex digits. */
const char *sw_bundle_key_id(const sw_bundle_key *k) SW_NONNULL(1);

/* ---- writing ----------------------------------------------------------------- */
typedef enum sw_bundle_role {
    SW_BUNDLE_ROLE_POLICY, /* a top-level policy file (loaded in bundle order) */
    SW_BUNDLE_ROLE_FEED,   /* the location feed (at most one) */
    SW_BUNDLE_ROLE_DATA,   /* anything a policy names: includes, lists, partners */
    SW_BUNDLE_ROLE__COUNT
} sw_bundle_role;

/* "policy", "feed", "data"; lookup: SW_OK or SW_ENOTFOUND. */
const char *sw_bundle_role_name(sw_bundle_role r);
int sw_bundle_role_lookup(const char *name, sw_bundle_role *out) SW_WUR SW_NONNULL(1, 2);

typedef struct sw_bundle_input {
    const char *name;     /* the name inside the bundle (relative, see docs) */
    sw_bundle_role role;
    const uint8_t *data;
    size_t len;
} sw_bundle_input;

/* 1 when name is acceptable inside a bundle: 1..255 bytes of
 * [A-Za-z0-9._+-] and '/', relative, no empty, "." or ".." segment. */
int sw_bundle_name_valid(const char *name, size_t len);

/* Writes a bundle of files[0..n) with this version and creation time
 * (Unix seconds), signed with signer (NULL: an unsigned bundle, which every
 * verifier refuses; for tests).  At least one policy file, at most one
 * feed, unique valid names, within the ceilings.  SW_OK and *out (malloc'd)
 * / *outlen, or SW_EINVAL / SW_ELIMIT / SW_ENOMEM with a message in err. */
int sw_bundle_write(const sw_bundle_input *files, size_t n, uint64_t version, int64_t created_s,
                    const sw_bundle_key *signer, uint8_t **out, size_t *outlen, char *err,
                    size_t errlen) SW_WUR SW_NONNULL(1, 6, 7, 8);

/* ---- reading ----------------------------------------------------------------- */
typedef struct sw_bundle sw_bundle;

typedef struct sw_bundle_file {
    const char *name;
    sw_bundle_role role;
    const uint8_t *data;  /* inside the bundle's copy; valid until sw_bundle_free */
    size_t len;
    uint8_t sha256[32];   /* as the manifest states it */
} sw_bundle_file;

/* Parses data[0..len) (copied: the caller's buffer may go).  Checks the
 * structure only: magic, manifest syntax, ceilings, names, sizes adding up
 * to exactly len.  Not the signature nor the hashes: see sw_bundle_verify.
 * Returns SW_BUNDLE_OK and *out, or FORMAT, TOO_BIG, BAD_NAME, NOMEM with
 * a message in err (err may be NULL). */
sw_bundle_status sw_bundle_parse(const uint8_t *data, size_t len, sw_bundle **out, char *err,
                                 size_t errlen) SW_WUR SW_NONNULL(1, 3);
/* Reads path (at most SW_BUNDLE_MAX_TOTAL bytes) and parses it; IO when
 * unreadable. */
sw_bundle_status sw_bundle_load(const char *path, sw_bundle **out, char *err, size_t errlen)
    SW_WUR SW_NONNULL(1, 2);
void sw_bundle_free(sw_bundle *b);

/* A key a verifier trusts; retiring keys still verify, and the caller
 * says so (a warning event in sipwalld). */
typedef struct sw_bundle_trust {
    const sw_bundle_key *key;
    int retiring;
} sw_bundle_trust;

/* Checks the signature with the trusted key whose id the bundle names,
 * then every file's SHA-256.  UNSIGNED, UNKNOWN_KEY, BAD_SIGNATURE,
 * HASH_MISMATCH (err names the file), or OK with *used (may be NULL) set to
 * the index of the key in keys. */
sw_bundle_status sw_bundle_verify(const sw_bundle *b, const sw_bundle_trust *keys, size_t nkeys,
                                  size_t *used, char *err, size_t errlen) SW_NONNULL(1);

/* The last accepted bundle: its version and the SHA-256 of the whole file. */
typedef struct sw_bundle_mark {
    uint64_t version;
    uint8_t sha256[32];
} sw_bundle_mark;

/* Against the last accepted mark (NULL: none yet, anything goes): OK when
 * the version is newer, or equal with the same file hash (the same bundle
 * read again); ROLLBACK when older; REPLAY when equal and different. */
sw_bundle_status sw_bundle_check_version(const sw_bundle *b, const sw_bundle_mark *last, char *err,
                                         size_t errlen) SW_NONNULL(1);

/* Reads a mark file ("sipwall-bundle-mark 1\nversion N\nsha256 HEX\n").
 * SW_OK, SW_ENOTFOUND when the file does not exist, SW_EFORMAT / SW_EIO. */
int sw_bundle_mark_read(const char *path, sw_bundle_mark *out) SW_WUR SW_NONNULL(1, 2);
/* Writes it atomically (a temporary file in the same directory, mode 0600,
 * O_NOFOLLOW, fsync, rename).  SW_OK or SW_EIO (errno set). */
int sw_bundle_mark_write(const char *path, const sw_bundle_mark *m) SW_WUR SW_NONNULL(1, 2);
/* Writes data[0..len) to path the same atomic way (the last good bundle's
 * copy). */
int sw_bundle_save_copy(const char *path, const uint8_t *data, size_t len) SW_WUR SW_NONNULL(1);

/* Accessors. */
uint64_t sw_bundle_version(const sw_bundle *b) SW_NONNULL(1);
int64_t sw_bundle_created(const sw_bundle *b) SW_NONNULL(1);
/* The signer key id the manifest names ("" when unsigned). */
const char *sw_bundle_signer(const sw_bundle *b) SW_NONNULL(1);
/* SHA-256 of the whole bundle file. */
const uint8_t *sw_bundle_sha256(const sw_bundle *b) SW_NONNULL(1);
/* The bundle's bytes as read (for sw_bundle_save_copy). */
const uint8_t *sw_bundle_bytes(const sw_bundle *b, size_t *len) SW_NONNULL(1, 2);
size_t sw_bundle_nfiles(const sw_bundle *b) SW_NONNULL(1);
const sw_bundle_file *sw_bundle_file_at(const sw_bundle *b, size_t i) SW_NONNULL(1);
/* The file of that name after lexical normalisation ("a/./b", "a/x/../b"
 * = "a/b"; a path that climbs out of the bundle is not found); NULL when
 * absent. */
const sw_bundle_file *sw_bundle_find(const sw_bundle *b, const char *name) SW_NONNULL(1, 2);

/* Lowercase hex of n bytes into out (2n + 1 bytes). */
void sw_bundle_hex(const uint8_t *in, size_t n, char *out) SW_NONNULL(1, 3);

#endif
