"""PAdES signatures on PDF documents (pyHanko), and their validation.

The signer is built once (key and certificates parsed once) and reused for every
document; the signature container's size is fixed instead of estimated, which would cost
a whole dry-run signature per document (docs/performance.md).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import EmbeddedPdfSignature, validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from signing.pki import PkiFiles
from signing.verdicts import NO_REASON, Cause, Reason

FIELD = "KaseruSignature"
BYTES_RESERVED = 8192
"""Room for the CMS container: a P-256 signature with two certificates needs about 1.5 KB."""


class _TemplateSigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner, with the CMS container of every signature after the first
    made from the first one's bytes.

    docs/performance.md: assembling the CMS structure is two thirds of pyHanko's signing
    time, while for our PAdES signatures only two things in it change from document to
    document: the 32-byte message digest inside the signed attributes, and the ECDSA
    signature over those attributes (signing time goes in the PDF's /M, not the CMS). So
    the first container is built by pyHanko as usual; later ones copy its bytes, put the
    new digest in place and sign the new attributes with the same key. An ECDSA signature's
    DER length varies (70-72 bytes); we draw signatures (each with a fresh random nonce, so
    each is an ordinary signature) until one has the template's length, which keeps every
    offset in the container unchanged. Anything unusual (other digest, dry run, timestamps)
    goes through pyHanko unchanged.
    """

    def __init__(self, key: ec.EllipticCurvePrivateKey, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._key = key
        self._template: bytes | None = None
        self._attrs_at = self._digest_at = self._signature_at = 0
        self._attrs_len = self._signature_len = 0

    async def async_sign(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        dry_run: bool = False,
        use_pades: bool = False,
        timestamper: Any = None,
        signed_attr_settings: Any = None,
        is_pdf_sig: bool = True,
        encap_content_info: Any = None,
    ) -> cms.ContentInfo:
        ordinary = (
            dry_run
            or timestamper is not None
            or encap_content_info is not None
            or digest_algorithm != "sha256"
            or len(data_digest) != 32
        )
        if ordinary or self._template is None:
            info = await super().async_sign(
                data_digest,
                digest_algorithm,
                dry_run=dry_run,
                use_pades=use_pades,
                timestamper=timestamper,
                signed_attr_settings=signed_attr_settings,
                is_pdf_sig=is_pdf_sig,
                encap_content_info=encap_content_info,
            )
            if not ordinary:
                self._learn(info, data_digest)
            return info
        return cms.ContentInfo.load(self._from_template(data_digest))

    def _learn(self, info: cms.ContentInfo, digest: bytes) -> None:
        der = info.dump()
        signer_info = info["content"]["signer_infos"][0]
        attrs = signer_info["signed_attrs"].dump()
        signature = signer_info["signature"].native
        self._attrs_at = der.index(attrs)
        self._digest_at = der.index(digest, self._attrs_at)
        self._signature_at = der.index(signature, self._attrs_at + len(attrs))
        if der.count(digest) != 1 or der.count(signature) != 1:
            return  # ambiguous offsets: keep using pyHanko for every document
        self._attrs_len, self._signature_len = len(attrs), len(signature)
        self._template = der

    def _from_template(self, digest: bytes) -> bytes:
        assert self._template is not None
        der = bytearray(self._template)
        der[self._digest_at : self._digest_at + 32] = digest
        attrs = bytes(der[self._attrs_at : self._attrs_at + self._attrs_len])
        # The signature covers the attributes as a SET OF (tag 0x31), not as [0] IMPLICIT.
        signed = b"\x31" + attrs[1:]
        while True:
            signature = self._key.sign(signed, ec.ECDSA(hashes.SHA256()))
            if len(signature) == self._signature_len:
                break
        der[self._signature_at : self._signature_at + self._signature_len] = signature
        return bytes(der)


class DocumentSigner:
    """Signs PDFs with the registry's document-signing key (PAdES B-B, SHA-256)."""

    def __init__(self, files: PkiFiles, fast: bool = True) -> None:
        self.files = files
        certificate = load_cert_from_pemder(str(files.certificate))
        root = load_cert_from_pemder(str(files.root))
        options: dict[str, Any] = {
            "signing_cert": certificate,
            "signing_key": load_private_key_from_pemder(str(files.key), passphrase=None),
            # Only the root here: the signing certificate is embedded anyway, and listing it
            # again would embed it twice.
            "cert_registry": SimpleCertificateStore.from_certs([root]),
        }
        if fast:
            key = serialization.load_pem_private_key(files.key.read_bytes(), password=None)
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise ValueError(f"{files.key} is not an elliptic-curve key")
            self._signer: signers.SimpleSigner = _TemplateSigner(key, **options)
        else:
            self._signer = signers.SimpleSigner(**options)
        self._meta = signers.PdfSignatureMetadata(
            field_name=FIELD,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            name="一般社団法人 移住・住みかえ支援機構",
            location="JP",
        )
        self._pdf_signer = signers.PdfSigner(self._meta, self._signer)

    def sign(self, pdf: bytes) -> bytes:
        """The PDF with an incremental update holding the signature over the whole file."""
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        output = self._pdf_signer.sign_pdf(writer, bytes_reserved=BYTES_RESERVED)
        signed: bytes = output.getvalue()
        return signed


@dataclass(frozen=True)
class SignatureCheck:
    """What pyHanko found about a document's signature."""

    valid: bool
    trusted: bool
    whole_file: bool
    signer: str
    reason: Reason


def check(pdf: bytes, root_pem: bytes) -> SignatureCheck:
    """Validate the document's PAdES signature against the registry root, and that the
    signature's /Contents string is exactly what the registry's signer wrote
    (`container_problem`)."""
    root = load_cert_from_pemder_bytes(root_pem)
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    if not reader.embedded_signatures:
        return SignatureCheck(False, False, False, "", Reason(Cause.UNSIGNED_PDF))
    signature = reader.embedded_signatures[-1]
    context = ValidationContext(trust_roots=[root])
    status = validate_pdf_signature(signature, context)
    whole = signature.coverage is not None and signature.coverage.name == "ENTIRE_FILE"
    if not status.intact:
        reason = Reason(Cause.DOCUMENT_CHANGED)
    elif not whole:
        reason = Reason(Cause.PARTIAL_COVERAGE)
    elif not status.valid:
        reason = Reason(Cause.BAD_SIGNATURE)
    else:
        path = status.validation_path if status.trusted else None
        chain = [c.dump() for c in path.iter_certs(include_root=True)] if path is not None else None
        reason = container_problem(pdf, signature, chain)
    return SignatureCheck(
        not reason,
        bool(status.trusted),
        whole,
        status.signing_cert.subject.human_friendly,
        reason,
    )


_CONTENTS = re.compile(rb"<((?:[0-9A-F]{2})*)>")
"""The /Contents string as pyHanko writes it: upper-case hex digits, nothing else."""


def container_problem(
    pdf: bytes, signature: EmbeddedPdfSignature, chain: list[bytes] | None
) -> Reason:
    """Why the signature's /Contents string (the gap the ByteRange leaves, which the
    signature cannot cover) is not exactly what the registry's signer writes (a
    Cause.CONTAINER_ALTERED), or NO_REASON ("") if it is.

    The signature covers every byte of the file except this string, and pyHanko reads
    the string leniently: a hex digit's case, whitespace or other digits in the zero
    padding after the container, a BER tag, or the fields of the CMS container that no
    signature covers (the certificates bundled for convenience, the digest algorithm list,
    version numbers) can all change without the signature failing. A document whose bytes
    differ from those the registry issued must not verify, so these bytes are pinned:
    upper-case hex, one DER container followed by zero bytes only, the container in
    canonical DER, its uncovered fields as pyHanko writes them, and every certificate in it
    one of the chain that validation checked (`chain`, DER; None when the chain is not
    trusted, which is refused anyway)."""
    start, end = signature.byte_range[1], signature.byte_range[2]
    if not 0 < start < end <= len(pdf):
        return _altered("the signature's byte range is malformed")
    found = _CONTENTS.fullmatch(pdf[start:end])
    if found is None:
        return _altered("the signature's /Contents string is not as the signer wrote it")
    raw = bytes.fromhex(found.group(1).decode())
    size = _der_size(raw)
    if size is None or any(raw[size:]):
        return _altered("the signature container's padding is not all zeros")
    try:
        info = cms.ContentInfo.load(raw[:size], strict=True)
        canonical = info.dump(force=True) == raw[:size]
        data = info["content"]
        signers_ = data["signer_infos"]
        signer = signers_[0]
        plain = (
            info["content_type"].native == "signed_data"
            and data["version"].native == "v1"
            and len(signers_) == 1
            and signer["version"].native == "v1"
            and [a.dump() for a in data["digest_algorithms"]] == [signer["digest_algorithm"].dump()]
            and data["encap_content_info"]["content_type"].native == "data"
            and data["encap_content_info"]["content"].native is None
            and not data["crls"]
            and not signer["unsigned_attrs"]
        )
        certificates = [c.dump() for c in data["certificates"]]
    except (ValueError, TypeError, KeyError, IndexError):
        return _altered("the signature container cannot be read as DER")
    if not canonical:
        return _altered("the signature container is not in canonical DER")
    if not plain:
        return _altered("unsigned fields of the signature container were altered")
    if chain is not None and not set(certificates) <= set(chain):
        return _altered("the signature container holds a certificate outside the validated chain")
    return NO_REASON


def _altered(problem: str) -> Reason:
    return Reason(Cause.CONTAINER_ALTERED, problem=problem)


def _der_size(raw: bytes) -> int | None:
    """The length of the DER SEQUENCE at the start of `raw` (header included), or None."""
    if len(raw) < 2 or raw[0] != 0x30:
        return None
    if raw[1] < 0x80:
        size = 2 + raw[1]
    else:
        count = raw[1] & 0x7F
        if not 0 < count <= 4:  # 0x80 is BER's indefinite length, which DER forbids
            return None
        # Were the length's bytes cut short, the size would still exceed len(raw).
        size = 2 + count + int.from_bytes(raw[2 : 2 + count], "big")
    return size if size <= len(raw) else None


def load_cert_from_pemder_bytes(data: bytes) -> asn1_x509.Certificate:
    """An asn1crypto certificate from PEM or DER bytes."""
    from asn1crypto import pem

    if pem.detect(data):
        _, _, data = pem.unarmor(data)
    return asn1_x509.Certificate.load(data)
