"""Signing the report (PAdES, offline) with a certificate the hospital supplies as a
PKCS#12 file (compliance.md 4: AI Act Annex IV 2(g) asks for test reports "dated and
signed by the responsible persons").

pyHanko signs as an incremental update, so the PDF/A-3b file stays as validated and the
signature covers every byte before it. Offline means PAdES B-B: no timestamp authority
and no revocation check. The password never comes from the plan file: the caller reads it
from the environment or a prompt and hands it over here.

Two kinds of signature use this: the issuer's, at run time (`run --sign`), which only
protects the file as written and says in its reason that it is no approval; and each
approver's, after review (`mnemoscope sign`, approval.py), which records who decided what.
"""

from __future__ import annotations

import os
import stat
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit_core.errors import MnemoscopeError

PASSWORD_VARIABLE = "MNEMOSCOPE_SIGNING_PASSWORD"
FIELD_PREFIX = "MnemoscopeSignature"
ISSUER_REASON = ("Issued by Mnemoscope: protects the report as written; not an approval "
                 "(approvals are added after review with `mnemoscope sign`)")


def quiet_pyhanko() -> None:
    """Call before importing pyHanko. It imports cryptography's DSA key type, which
    cryptography deprecates with a warning printed on every signed run and every verify;
    the reports never use DSA. Only that warning, only from pyHanko, is silenced."""
    try:
        from cryptography.utils import CryptographyDeprecationWarning
    except ImportError:  # no cryptography: pyHanko is not installed either
        return
    warnings.filterwarnings("ignore", message="DSA is deprecated", category=CryptographyDeprecationWarning,
                            module=r"pyhanko\.")


class SigningError(MnemoscopeError):
    """The certificate cannot be used: missing file, wrong password, not PKCS#12."""


@dataclass
class ReportSigner:
    pkcs12: Path
    passphrase: bytes | None = field(default=None, repr=False)
    _signer: Any = field(default=None, init=False, repr=False)

    def load(self) -> Any:
        """Loads the key and certificate once; a bad file or password fails here, before
        any report is written."""
        if self._signer is None:
            quiet_pyhanko()
            from pyhanko.sign import signers

            if not self.pkcs12.is_file():
                raise SigningError(f"{self.pkcs12}: no such certificate file (PKCS#12 expected)")
            try:
                self._signer = signers.SimpleSigner.load_pkcs12(str(self.pkcs12), passphrase=self.passphrase)
            except Exception as exc:  # pyHanko/cryptography raise several types here
                raise SigningError(f"{self.pkcs12}: cannot open the certificate "
                                   f"(wrong password, or not a PKCS#12 file): {exc.__class__.__name__}") from None
            if self._signer is None:
                raise SigningError(f"{self.pkcs12}: cannot open the certificate (wrong password?)")
        return self._signer

    def subject(self) -> str:
        return self.load().signing_cert.subject.human_friendly

    def status_line(self) -> str:
        return (f"Signed when issued by {self.subject()} (PAdES), to protect the file as written: "
                "this signature is not an approval.")

    def sign_in_place(self, path: Path, reason: str = ISSUER_REASON, name: str | None = None,
                      field_prefix: str = FIELD_PREFIX) -> None:
        """Signs `path` (an incremental update), replacing it atomically. `reason` and
        `name` go into the signature dictionary, which the signature covers."""
        quiet_pyhanko()
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers

        signer = self.load()
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".signing", dir=path.parent)
        try:
            with open(path, "rb") as source, os.fdopen(handle, "wb") as output:
                writer = IncrementalPdfFileWriter(source, strict=False)
                existing = sum(1 for _ in fields.enumerate_sig_fields(writer))
                metadata = signers.PdfSignatureMetadata(
                    field_name=f"{field_prefix}{existing + 1}",
                    md_algorithm="sha256",  # sha384 would bump the file to PDF 2.0
                    subfilter=fields.SigSeedSubFilter.PADES,
                    reason=reason,
                    name=name,
                )
                signers.sign_pdf(writer, metadata, signer=signer, output=output)
            os.chmod(temporary, stat.S_IMODE(path.stat().st_mode))  # mkstemp made it private
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def passphrase_from_environment() -> bytes | None:
    value = os.environ.get(PASSWORD_VARIABLE)
    return value.encode("utf-8") if value is not None else None
