//! The RSA signing key: generation or loading from PEM, its stable `kid`, the
//! self-signed certificate published in `x5c`, and the JWKS document.
//!
//! Only public members ever leave this module (RFC 7517 §9.3): the JWKS is
//! built from the modulus and exponent, never from the private key.

use aws_lc_rs::digest;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair as _, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use crate::EmulatorError;

/// WorkOS key ids look like `sso_oidc_key_pair_01H…`.
const KID_PREFIX: &str = "sso_oidc_key_pair_";

/// The key that signs access tokens.
pub(crate) struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    pkcs8_pem: String,
    jwk: Jwk,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// One entry of the JWKS: all eight members the Rust SDK's typed `get_jwks`
/// requires.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Jwk {
    alg: &'static str,
    kty: &'static str,
    #[serde(rename = "use")]
    use_: &'static str,
    n: String,
    e: String,
    kid: String,
    x5c: Vec<String>,
    #[serde(rename = "x5t#S256")]
    x5t_s256: String,
}

/// `{"keys": [...]}`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Jwks {
    keys: Vec<Jwk>,
}

impl SigningKey {
    /// A fresh RSA-2048 key.
    pub(crate) fn generate() -> Result<Self, EmulatorError> {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| EmulatorError::Key("RSA key generation failed".into()))?;
        Self::from_pair(&pair)
    }

    /// Loads a PKCS#8 (`PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`) PEM.
    pub(crate) fn from_pem(pem: &str) -> Result<Self, EmulatorError> {
        let (label, der) = decode_pem(pem)?;
        let pair = match label.as_str() {
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
            other => {
                return Err(EmulatorError::Key(format!(
                    "expected a PRIVATE KEY or RSA PRIVATE KEY PEM block, got {other:?}"
                )));
            }
        }
        .map_err(|e| EmulatorError::Key(format!("not a usable RSA private key: {e}")))?;
        if pair.public_modulus_len() < 256 {
            return Err(EmulatorError::Key(
                "the RSA key must have at least 2048 bits".into(),
            ));
        }
        Self::from_pair(&pair)
    }

    fn from_pair(pair: &RsaKeyPair) -> Result<Self, EmulatorError> {
        let key_err = |what: &str| EmulatorError::Key(what.to_owned());
        let pkcs8 = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der<'static>>::as_der(pair)
            .map_err(|_| key_err("cannot serialise the RSA key"))?;
        let pkcs8_pem = encode_pem("PRIVATE KEY", pkcs8.as_ref());
        let encoding = EncodingKey::from_rsa_pem(pkcs8_pem.as_bytes())
            .map_err(|e| EmulatorError::Key(format!("jsonwebtoken rejected the key: {e}")))?;

        let public = pair.public_key();
        let n = public.modulus().big_endian_without_leading_zero().to_vec();
        let e = public.exponent().big_endian_without_leading_zero().to_vec();
        // The kid is a digest of the public key, so the same key always gets
        // the same kid and clients' JWKS caches stay valid across restarts.
        let mut material = n.clone();
        material.extend_from_slice(&e);
        let hash = digest::digest(&digest::SHA256, &material);
        let kid = format!(
            "{KID_PREFIX}{}",
            hash.as_ref()[..13]
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect::<String>()
        );
        let cert_der = self_signed_certificate(&pkcs8_pem, hash.as_ref())?;
        let x5t = digest::digest(&digest::SHA256, &cert_der);
        let jwk = Jwk {
            alg: "RS256",
            kty: "RSA",
            use_: "sig",
            n: URL_SAFE_NO_PAD.encode(&n),
            e: URL_SAFE_NO_PAD.encode(&e),
            kid: kid.clone(),
            // RFC 7517 §4.7: x5c entries are standard base64 (not base64url) DER.
            x5c: vec![STANDARD.encode(&cert_der)],
            x5t_s256: URL_SAFE_NO_PAD.encode(x5t.as_ref()),
        };
        Ok(Self {
            kid,
            encoding,
            pkcs8_pem,
            jwk,
        })
    }

    /// The key id placed in every token header and in the JWKS.
    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    /// The private key as PKCS#8 PEM, for callers that persist it.
    pub(crate) fn pem(&self) -> &str {
        &self.pkcs8_pem
    }

    /// The JWKS document (public members only).
    pub(crate) fn jwks(&self) -> Jwks {
        Jwks {
            keys: vec![self.jwk.clone()],
        }
    }

    /// Signs `claims` as an RS256 JWT with this key's `kid`. RS256 is the
    /// only algorithm ever used (RFC 8725 §3.1: no `none`, no confusion).
    pub(crate) fn sign<T: Serialize>(
        &self,
        claims: &T,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
    }
}

/// A self-signed certificate for `x5c`. Its dates and serial are fixed
/// (the serial derives from the key), and PKCS#1 v1.5 signatures are
/// deterministic, so the same key always yields the same certificate.
fn self_signed_certificate(pkcs8_pem: &str, key_hash: &[u8]) -> Result<Vec<u8>, EmulatorError> {
    let cert_err =
        |e: rcgen::Error| EmulatorError::Key(format!("cannot build the x5c certificate: {e}"));
    let key = rcgen::KeyPair::from_pem_and_sign_algo(pkcs8_pem, &rcgen::PKCS_RSA_SHA256)
        .map_err(cert_err)?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(cert_err)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "WorkOS emulator signing key");
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2099, 12, 31);
    let mut serial = key_hash[..16].to_vec();
    serial[0] &= 0x7f; // keep the DER integer positive
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    let cert = params.self_signed(&key).map_err(cert_err)?;
    Ok(cert.der().to_vec())
}

fn encode_pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The label and DER bytes of the first PEM block in `pem`.
fn decode_pem(pem: &str) -> Result<(String, Vec<u8>), EmulatorError> {
    let bad = || EmulatorError::Key("the signing key is not a PEM block".into());
    let start = pem.find("-----BEGIN ").ok_or_else(bad)?;
    let rest = &pem[start + "-----BEGIN ".len()..];
    let label_end = rest.find("-----").ok_or_else(bad)?;
    let label = rest[..label_end].to_owned();
    let body_and_end = &rest[label_end + 5..];
    let end = body_and_end
        .find(&format!("-----END {label}-----"))
        .ok_or_else(bad)?;
    let body: String = body_and_end[..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = STANDARD.decode(body).map_err(|_| bad())?;
    Ok((label, der))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_round_trips_through_pem_with_the_same_kid_and_certificate() {
        let key = SigningKey::generate().unwrap();
        assert!(key.kid().starts_with(KID_PREFIX));
        let again = SigningKey::from_pem(key.pem()).unwrap();
        assert_eq!(again.kid(), key.kid());
        assert_eq!(again.jwk.x5c, key.jwk.x5c);
        assert_eq!(again.jwk.n, key.jwk.n);
    }

    #[test]
    fn jwks_has_all_eight_members_and_no_private_ones() {
        let key = SigningKey::generate().unwrap();
        let json = serde_json::to_value(key.jwks()).unwrap();
        let jwk = json["keys"][0].as_object().unwrap();
        let mut names: Vec<&str> = jwk.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            ["alg", "e", "kid", "kty", "n", "use", "x5c", "x5t#S256"]
        );
        assert_eq!(jwk["e"], "AQAB");
    }

    #[test]
    fn garbage_pem_is_rejected_with_a_message() {
        let err =
            SigningKey::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .unwrap_err();
        assert!(err.to_string().contains("CERTIFICATE"), "{err}");
        assert!(SigningKey::from_pem("nope").is_err());
    }
}
