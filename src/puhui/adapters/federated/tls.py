"""Mutual TLS between the bank and the data owner (docs/federated.md, "Transport").

Each side proves who it is with a certificate its peer's trust anchor signed: the owner's
server refuses a connection without a client certificate it can verify, and the bank refuses an
owner whose certificate does not verify or does not name the host it dialled. The HMAC
signature of every message stays on top as the application-level check (and the nonce against
replays).

``make_federation_certs`` writes a small federation CA and one certificate for each party, for
tests, pilots and the demo. In production each party's own CA issues its certificate and each
side is given the other's CA certificate; the files have the same shape.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from puhui.risk.federated.errors import InvalidFederatedData

CERT_DAYS = 398
"""Validity of the party certificates (the CA's: twice that)."""


@dataclass(frozen=True, slots=True)
class PartyTls:
    """One party's certificate and key, and the CA certificate its peer must chain to."""

    cert: Path
    key: Path
    peer_ca: Path

    def check(self) -> None:
        for name, path in (("certificate", self.cert), ("key", self.key), ("CA", self.peer_ca)):
            if not path.is_file():
                raise InvalidFederatedData(
                    f"the TLS {name} file {path} does not exist", details={"file": str(path)}
                )

    def client_context(self) -> ssl.SSLContext:
        """The bank's side: present our certificate, verify the owner's and its host name."""
        self.check()
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(self.peer_ca))
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(str(self.cert), str(self.key))
        return context


@dataclass(frozen=True, slots=True)
class FederationCerts:
    ca: Path
    owner: PartyTls
    bank: PartyTls


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Puhui federation"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def _alt_names(hosts: list[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def _issue(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_name: x509.Name,
    common_name: str,
    *,
    usage: x509.ObjectIdentifier,
    hosts: list[str],
    now: dt.datetime,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if hosts:
        builder = builder.add_extension(x509.SubjectAlternativeName(_alt_names(hosts)), False)
    return builder.sign(ca_key, hashes.SHA256()), key


def make_federation_certs(
    out: Path, *, owner_hosts: list[str], now: dt.datetime | None = None
) -> FederationCerts:
    """A federation CA, the owner's server certificate for ``owner_hosts`` and the bank's
    client certificate, as PEM files in ``out`` (keys readable by the owner of the files only).
    Refuses to overwrite: a folder that already holds a CA is an error."""
    if not owner_hosts:
        raise InvalidFederatedData("the owner's certificate needs at least one host name or IP")
    out.mkdir(parents=True, exist_ok=True)
    if (out / "ca.pem").exists():
        raise InvalidFederatedData(
            f"{out} already holds a federation CA: choose an empty folder",
            details={"folder": str(out)},
        )
    at = now or dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("Puhui federation CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(at - dt.timedelta(minutes=5))
        .not_valid_after(at + dt.timedelta(days=2 * CERT_DAYS))
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
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = out / "ca.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    parties = {}
    for party, usage, hosts in (
        ("owner", ExtendedKeyUsageOID.SERVER_AUTH, owner_hosts),
        ("bank", ExtendedKeyUsageOID.CLIENT_AUTH, []),
    ):
        cert, key = _issue(
            ca_key, ca_name, f"Puhui federation {party}", usage=usage, hosts=hosts, now=at
        )
        cert_path, key_path = out / f"{party}.pem", out / f"{party}-key.pem"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(key, key_path)
        parties[party] = PartyTls(cert_path, key_path, ca_path)
    return FederationCerts(ca_path, parties["owner"], parties["bank"])
