"""The registry's document-signing PKI: a root certificate and a document-signing key and
certificate under it (X.509, ECDSA P-256).

`create_development_pki` makes both for development and demos (`kaseru keys init`): its
root's subject says so (DEVELOPMENT_ROOT), and `is_development` finds it, so that a
registry outside development mode refuses to sign with it (registry/production.py).
`create_production_pki` (`kaseru init --production`) makes the Institute's own root and
signing certificate; the key and certificates may instead be files named in settings,
issued by whatever authority the Institute uses. The private key is written 0600 from its
creation (signing/files.py); the root's private key is not kept.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from signing.files import write_private

ORGANISATION = "一般社団法人 移住・住みかえ支援機構"
DEVELOPMENT_ROOT = "kaseru development root (開発用ルート)"
"""The common name of the root `kaseru keys init` makes: what marks its keys as development."""
PRODUCTION_ROOT = "kaseru root (文書署名ルート)"


@dataclass(frozen=True)
class PkiFiles:
    """Where the signing key, its certificate and the root certificate live."""

    key: Path
    certificate: Path
    root: Path

    @classmethod
    def in_folder(cls, folder: Path) -> PkiFiles:
        """The standard file names inside one folder."""
        return cls(
            folder / "signing-key.pem", folder / "signing-cert.pem", folder / "root-cert.pem"
        )

    def exist(self) -> bool:
        return self.key.exists() and self.certificate.exists() and self.root.exists()


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def create_development_pki(files: PkiFiles, now: dt.datetime | None = None) -> None:
    """Write a development root (valid 30 years) and a document-signing certificate
    (valid 10 years) with its private key. Refuses to overwrite existing files."""
    _create_pki(files, DEVELOPMENT_ROOT, now)


def create_production_pki(files: PkiFiles, now: dt.datetime | None = None) -> None:
    """The same for production (`kaseru init --production`): a root whose subject does not
    say development. Refuses to overwrite existing files."""
    _create_pki(files, PRODUCTION_ROOT, now)


def is_development(files: PkiFiles) -> bool:
    """Whether the signing certificate or the root is one `kaseru keys init` made: its
    root's (or its issuer's) common name is DEVELOPMENT_ROOT."""
    for path, which in ((files.root, "subject"), (files.certificate, "issuer")):
        if not path.exists():
            continue
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
        name = certificate.subject if which == "subject" else certificate.issuer
        names = name.get_attributes_for_oid(NameOID.COMMON_NAME)
        if any(attribute.value == DEVELOPMENT_ROOT for attribute in names):
            return True
    return False


def _create_pki(files: PkiFiles, root_common_name: str, now: dt.datetime | None) -> None:
    for path in (files.key, files.certificate, files.root):
        if path.exists():
            raise FileExistsError(f"{path} exists; remove it to make new keys")
    now = now or dt.datetime.now(dt.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(root_common_name)
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * 30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name("kaseru document signing (文書署名)"))
        .issuer_name(root_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * 10))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    write_private(
        files.key,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        replace=False,
    )
    files.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    files.root.write_bytes(root.public_bytes(serialization.Encoding.PEM))
