"""CMS SignedData (RFC 5652 §5) decoding and signature checking, with pyasn1. Pure: bytes in, results out.

`cryptography` signs, encrypts and decrypts PKCS #7 but does not verify it, so this module reads the
SignedData structure and checks the signature with `cryptography`'s primitives. Only what S/MIME
signatures use is declared: signer infos with signed attributes, embedded certificates.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyasn1.codec.der import decoder, encoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import namedtype, tag, univ

from appliance.mail.errors import SmimeError

OID_SIGNED_DATA = univ.ObjectIdentifier("1.2.840.113549.1.7.2")
OID_DATA = univ.ObjectIdentifier("1.2.840.113549.1.7.1")
OID_MESSAGE_DIGEST = univ.ObjectIdentifier("1.2.840.113549.1.9.4")
OID_CONTENT_TYPE = univ.ObjectIdentifier("1.2.840.113549.1.9.3")
DIGESTS = {"2.16.840.1.101.3.4.2.1": "sha256", "2.16.840.1.101.3.4.2.2": "sha384",
           "2.16.840.1.101.3.4.2.3": "sha512", "1.3.14.3.2.26": "sha1"}
HASHES = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512, "sha1": hashes.SHA1}


def _ctx(n: int, constructed: bool = True) -> tag.Tag:
    return tag.Tag(tag.tagClassContext, tag.tagFormatConstructed if constructed else tag.tagFormatSimple, n)


class AlgorithmIdentifier(univ.Sequence):
    """RFC 5280 §4.1.1.2."""

    componentType = namedtype.NamedTypes(namedtype.NamedType("algorithm", univ.ObjectIdentifier()),
                                         namedtype.OptionalNamedType("parameters", univ.Any()))


class Attribute(univ.Sequence):
    """RFC 5652 §5.3."""

    componentType = namedtype.NamedTypes(namedtype.NamedType("attrType", univ.ObjectIdentifier()),
                                         namedtype.NamedType("attrValues", univ.SetOf(componentType=univ.Any())))


class SignedAttributes(univ.SetOf):
    """[0] IMPLICIT SET OF Attribute."""

    componentType = Attribute()
    tagSet = univ.SetOf.tagSet.tagImplicitly(_ctx(0))


class IssuerAndSerialNumber(univ.Sequence):
    """RFC 5652 §10.2.4."""

    componentType = namedtype.NamedTypes(namedtype.NamedType("issuer", univ.Any()),
                                         namedtype.NamedType("serialNumber", univ.Integer()))


class SignerIdentifier(univ.Choice):
    """RFC 5652 §5.3."""

    componentType = namedtype.NamedTypes(
        namedtype.NamedType("issuerAndSerialNumber", IssuerAndSerialNumber()),
        namedtype.NamedType("subjectKeyIdentifier", univ.OctetString().subtype(implicitTag=_ctx(0, False))))


class SignerInfo(univ.Sequence):
    """RFC 5652 §5.3."""

    componentType = namedtype.NamedTypes(
        namedtype.NamedType("version", univ.Integer()),
        namedtype.NamedType("sid", SignerIdentifier()),
        namedtype.NamedType("digestAlgorithm", AlgorithmIdentifier()),
        namedtype.OptionalNamedType("signedAttrs", SignedAttributes()),
        namedtype.NamedType("signatureAlgorithm", AlgorithmIdentifier()),
        namedtype.NamedType("signature", univ.OctetString()),
        namedtype.OptionalNamedType("unsignedAttrs", univ.SetOf(componentType=Attribute()).subtype(
            implicitTag=_ctx(1))))


class EncapsulatedContentInfo(univ.Sequence):
    """RFC 5652 §5.2."""

    componentType = namedtype.NamedTypes(
        namedtype.NamedType("eContentType", univ.ObjectIdentifier()),
        namedtype.OptionalNamedType("eContent", univ.OctetString().subtype(explicitTag=_ctx(0))))


class SignedData(univ.Sequence):
    """RFC 5652 §5.1."""

    componentType = namedtype.NamedTypes(
        namedtype.NamedType("version", univ.Integer()),
        namedtype.NamedType("digestAlgorithms", univ.SetOf(componentType=AlgorithmIdentifier())),
        namedtype.NamedType("encapContentInfo", EncapsulatedContentInfo()),
        namedtype.OptionalNamedType("certificates", univ.SetOf(componentType=univ.Any()).subtype(
            implicitTag=_ctx(0))),
        namedtype.OptionalNamedType("crls", univ.SetOf(componentType=univ.Any()).subtype(implicitTag=_ctx(1))),
        namedtype.NamedType("signerInfos", univ.SetOf(componentType=SignerInfo())))


class ContentInfo(univ.Sequence):
    """RFC 5652 §3."""

    componentType = namedtype.NamedTypes(
        namedtype.NamedType("contentType", univ.ObjectIdentifier()),
        namedtype.NamedType("content", univ.Any().subtype(explicitTag=_ctx(0))))


@dataclass
class Signature:
    """One checked signer: whose certificate, and whether the signature over the content holds."""

    certificate: x509.Certificate | None
    valid: bool
    reason: str = ""

    @property
    def signer_email(self) -> str:
        """The signer's e-mail address from the certificate (SAN rfc822Name, else the subject)."""
        if self.certificate is None:
            return ""
        try:
            san = self.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            names = san.value.get_values_for_type(x509.RFC822Name)
            if names:
                return names[0].lower()
        except x509.ExtensionNotFound:
            pass
        found = self.certificate.subject.get_attributes_for_oid(x509.NameOID.EMAIL_ADDRESS)
        return str(found[0].value).lower() if found else ""


@dataclass
class Signed:
    """A decoded SignedData: the embedded content (opaque signing) and the certificates it carries."""

    content: bytes | None
    certificates: list[x509.Certificate]
    signer_infos: list[SignerInfo]


def decode_signed_data(der: bytes) -> Signed:
    """Decode a DER ContentInfo holding SignedData; raises SmimeError when it is anything else."""
    try:
        info, _ = decoder.decode(der, asn1Spec=ContentInfo())
        if info["contentType"] != OID_SIGNED_DATA:
            raise SmimeError(f"not CMS signed data but {info['contentType']}")
        sd, _ = decoder.decode(bytes(info["content"]), asn1Spec=SignedData())
    except PyAsn1Error as exc:
        raise SmimeError(f"malformed CMS signed data: {exc}") from None
    certs = []
    if sd["certificates"].isValue:
        for item in sd["certificates"]:
            try:
                certs.append(x509.load_der_x509_certificate(bytes(item)))
            except ValueError:
                continue  # an attribute certificate or garbage: not a signer candidate
    econtent = sd["encapContentInfo"]["eContent"]
    content = bytes(econtent) if econtent.isValue else None
    return Signed(content, certs, list(sd["signerInfos"]))


def _find_signer(si: SignerInfo, certs: list[x509.Certificate]) -> x509.Certificate | None:
    sid = si["sid"]
    if sid.getName() == "issuerAndSerialNumber":
        issuer, serial = bytes(sid["issuerAndSerialNumber"]["issuer"]), int(sid["issuerAndSerialNumber"]["serialNumber"])
        for cert in certs:
            if cert.serial_number == serial and cert.issuer.public_bytes() == issuer:
                return cert
        return None
    ski = bytes(sid["subjectKeyIdentifier"])
    for cert in certs:
        try:
            if cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest == ski:
                return cert
        except x509.ExtensionNotFound:
            continue
    return None


def _check(si: SignerInfo, content: bytes, cert: x509.Certificate) -> str:
    """"" when the signature holds, else why not."""
    name = DIGESTS.get(str(si["digestAlgorithm"]["algorithm"]))
    if name is None:
        return f"unsupported digest {si['digestAlgorithm']['algorithm']}"
    digest = hashlib.new(name, content).digest()
    signed_bytes = content
    if si["signedAttrs"].isValue:
        found = [a for a in si["signedAttrs"] if a["attrType"] == OID_MESSAGE_DIGEST]
        if not found:
            return "signed attributes without a message digest"
        value, _ = decoder.decode(bytes(found[0]["attrValues"][0]), asn1Spec=univ.OctetString())
        if bytes(value) != digest:
            return "content does not match the signed digest (the mail was changed)"
        # RFC 5652 §5.4: the signature covers the DER of the attributes as a SET OF, not the [0] tag.
        attrs = bytearray(encoder.encode(si["signedAttrs"]))
        attrs[0] = 0x31
        signed_bytes = bytes(attrs)
    key, algo = cert.public_key(), HASHES[name]()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(bytes(si["signature"]), signed_bytes, padding.PKCS1v15(), algo)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(bytes(si["signature"]), signed_bytes, ec.ECDSA(algo))
        else:
            return f"unsupported signer key {type(key).__name__}"
    except InvalidSignature:
        return "signature does not verify"
    return ""


def verify(der: bytes, content: bytes | None = None) -> tuple[bytes, list[Signature]]:
    """Check every signer over `content` (detached) or the embedded content; returns (content, results)."""
    signed = decode_signed_data(der)
    data = content if content is not None else signed.content
    if data is None:
        raise SmimeError("detached signature without the signed content")
    results = []
    for si in signed.signer_infos:
        cert = _find_signer(si, signed.certificates)
        if cert is None:
            results.append(Signature(None, False, "signer certificate not included"))
            continue
        reason = _check(si, data, cert)
        results.append(Signature(cert, not reason, reason))
    if not results:
        raise SmimeError("signed data without signers")
    return data, results
