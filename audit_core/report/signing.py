"""Signing the report (PAdES, offline) with a certificate the hospital supplies as a
PKCS#12 file (compliance.md 4: AI Act Annex IV 2(g) asks for test reports "dated and
signed by the responsible persons").

pyHanko signs as an incremental update, so the PDF/A-3b file stays as validated and the
signature covers every byte before it. Offline means PAdES B-B: no timestamp authority
and no revocation check. The password never comes from the plan file: the caller reads it
from the environment or a prompt and hands it over here.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit_core.errors import MnemoscopeError

PASSWORD_VARIABLE = "MNEMOSCOPE_SIGNING_PASSWORD"
FIELD_PREFIX = "MnemoscopeSignature"


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
        return (f"Digitally signed (PAdES, offline) by {self.subject()}. The signature is embedded "
                "in this file; check it with `mnemoscope verify`.")

    def sign_in_place(self, path: Path) -> None:
        """Signs `path` (an incremental update), replacing it atomically."""
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers

        signer = self.load()
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".signing", dir=path.parent)
        try:
            with open(path, "rb") as source, os.fdopen(handle, "wb") as output:
                writer = IncrementalPdfFileWriter(source, strict=False)
                existing = sum(1 for _ in fields.enumerate_sig_fields(writer))
                metadata = signers.PdfSignatureMetadata(
                    field_name=f"{FIELD_PREFIX}{existing + 1}",
                    md_algorithm="sha256",  # sha384 would bump the file to PDF 2.0
                    subfilter=fields.SigSeedSubFilter.PADES,
                    reason="Memorization audit report",
                )
                signers.sign_pdf(writer, metadata, signer=signer, output=output)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def passphrase_from_environment() -> bytes | None:
    value = os.environ.get(PASSWORD_VARIABLE)
    return value.encode("utf-8") if value is not None else None
