"""`mnemoscope verify` on the report `make demo` writes (issue 14, defects 1 and 9): a genuine
report verifies, unsigned, signed when issued and approved; any change to it fails with a
reason, and no line claims a check that did not run. Nothing here depends on the report's
page numbers or layout: only on what verify reads (the file's structure, its attachments,
the printed label "Results SHA-256" somewhere in its text)."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import sys
from enum import Enum
from pathlib import Path

import pikepdf
import pytest

from audit_core.cli.main import main
from audit_core.report import write_report
from audit_core.report.pdf.seal import PLACEHOLDER, seal_bytes
from audit_core.report.pdf.verification import verify_report
from audit_core.report.pdf.writer import write_pdf
from audit_core.report.sections.attachments import embedded_files
from audit_core.report.sections.document import build_report, results_digest
from audit_core.report.sections.redaction import shareable
from tests.core.report_samples import REPO, make_pkcs12

PAINT = b"1 1 1 rg 0 500 600 300 re f"  # a white box over the top of a page: the verdict gone
needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext not installed")


@pytest.fixture()
def report(tmp_path: Path, demo_outputs: Path) -> Path:
    """A copy of the demo's report.pdf, free to alter."""
    return Path(shutil.copy(demo_outputs / "report.pdf", tmp_path / "report.pdf"))


@pytest.fixture(scope="module")
def demo_results(demo_outputs: Path) -> dict:
    """What the demo's report was built from: results.json with run.json under "run"."""
    results = json.loads((demo_outputs / "results.json").read_text(encoding="utf-8"))
    return {**results, "run": json.loads((demo_outputs / "run.json").read_text(encoding="utf-8"))}


def verify_cli(path: Path, *extra: str) -> subprocess.CompletedProcess:
    """`mnemoscope verify` in a process of its own, as a user runs it (stderr included)."""
    return subprocess.run([sys.executable, "-m", "audit_core", "verify", str(path), *extra],
                          cwd=REPO, capture_output=True, text=True, timeout=300)


def failures(path: Path) -> list[str]:
    outcome = verify_report(path)
    assert outcome.ok is False, outcome.lines
    found = [line for line in outcome.lines if line.startswith("FAIL")]
    assert found and all("\n" not in line and len(line) < 300 for line in found)
    return found


def reseal(path: Path) -> None:
    """What a careful forger does after editing: recompute the integrity record."""
    data = path.read_bytes()
    data = re.sub(rb"/MnemoscopeSeal\s*\(\d{12} [0-9a-f]{64}\)",
                  b"/MnemoscopeSeal (" + PLACEHOLDER.encode() + b")", data, count=1)
    path.write_bytes(seal_bytes(data))


def stream_offset(path: Path, find) -> int:
    """A byte offset inside the data of the stream object `find(pdf)` returns."""
    with pikepdf.open(path) as pdf:
        number, generation = find(pdf).objgen
    data = path.read_bytes()
    header = re.search(rb"(?m)^%d %d obj\b" % (number, generation), data)
    start = data.index(b"stream", header.end()) + len(b"stream\n") + 8
    assert start < data.index(b"endstream", header.end())
    return start


def flip(path: Path, at: int) -> Path:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    out = path.with_name(f"flipped-{at}.pdf")
    out.write_bytes(bytes(data))
    return out


# --- genuine reports verify ----------------------------------------------------------------

@needs_pdftotext
def test_the_demo_report_verifies_and_says_what_it_checked(demo_outputs: Path) -> None:
    done = verify_cli(demo_outputs / "report.pdf")
    assert done.returncode == 0, done.stdout
    assert done.stderr == ""  # defect 9: no CryptographyDeprecationWarning, no log noise
    lines = done.stdout.splitlines()
    assert not any(line.startswith("FAIL") for line in lines)
    results = json.loads((demo_outputs / "results.json").read_text())
    assert f"Report {results['audit']['report_id']}" in done.stdout
    assert any(line.startswith("OK") and "byte for byte as Mnemoscope wrote it" in line for line in lines)
    assert any(line.startswith("OK") and "hashes to the results SHA-256 the file records" in line for line in lines)
    assert any(line.startswith("OK") and "plan.json is the plan recorded" in line for line in lines)
    assert any(line.startswith("OK") and "printed in the report matches" in line for line in lines)
    assert "no approval signature" in done.stdout.lower()


def test_without_pdftotext_the_printed_hash_is_reported_as_not_checked(report: Path, monkeypatch) -> None:
    import audit_core.report.pdf.verification as verification

    real = shutil.which
    monkeypatch.setattr(verification.shutil, "which", lambda name: None if name == "pdftotext" else real(name))
    outcome = verify_report(report)
    assert outcome.ok, outcome.lines
    text = "\n".join(outcome.lines)
    assert "was NOT checked" in text and "pdftotext" in text
    assert not any("printed" in line for line in outcome.lines if line.startswith("OK"))


@needs_pdftotext
def test_a_report_signed_when_issued_verifies_and_is_not_called_an_approval(tmp_path, demo_results) -> None:
    pytest.importorskip("pyhanko")
    from audit_core.report.pdf.signing import ReportSigner

    certificate = tmp_path / "issuer.p12"
    make_pkcs12(certificate, b"pw")
    path = tmp_path / "signed.pdf"
    write_report(demo_results, path, signer=ReportSigner(certificate, b"pw"))  # as `run --sign`

    done = verify_cli(path)
    assert done.returncode == 0 and done.stderr == "", done.stdout + done.stderr
    assert "Signature 1: intact and valid; signed when issued by" in done.stdout
    assert "not an approval" in done.stdout and "Decision signed by" not in done.stdout


# --- approvals -----------------------------------------------------------------------------

def sign(path: Path, certificate: Path, *args: str) -> int:
    return main(["sign", str(path), "--p12", str(certificate), *args])


@needs_pdftotext
def test_approvals_stack_each_verifies_and_pdfsig_accepts_them(report: Path, tmp_path, monkeypatch, capsys) -> None:
    pytest.importorskip("pyhanko")
    certificate = tmp_path / "officer.p12"
    make_pkcs12(certificate, b"s3cret")
    monkeypatch.setenv("MNEMOSCOPE_SIGNING_PASSWORD", "s3cret")
    report.chmod(0o644)

    assert sign(report, certificate, "--approver", "Jane Roe, Privacy Officer",
                "--decision", "approved-with-conditions", "--conditions", "Internal research use only") == 0
    assert sign(report, certificate, "--approver", "John Doe, Data Protection Officer",
                "--decision", "approved") == 0
    assert "signed by John Doe, Data Protection Officer: approved" in capsys.readouterr().out
    assert report.stat().st_mode & 0o777 == 0o644  # still readable by whoever files it

    outcome = verify_report(report)
    assert outcome.ok, outcome.lines
    assert [(a.approver, a.decision.value, a.conditions) for a in outcome.approvals] == [
        ("Jane Roe, Privacy Officer", "approved-with-conditions", "Internal research use only"),
        ("John Doe, Data Protection Officer", "approved", "")]
    approved = [line for line in outcome.lines if line.startswith("OK    Decision signed by")]
    assert re.fullmatch(r"OK    Decision signed by Jane Roe, Privacy Officer: approved-with-conditions "
                        r"\(conditions: Internal research use only\), \d{4}-\d\d-\d\d \d\d:\d\d UTC\.",
                        approved[0])
    assert approved[1].startswith("OK    Decision signed by John Doe, Data Protection Officer: approved, ")
    done = verify_cli(report)
    assert done.returncode == 0 and done.stderr == ""

    if shutil.which("pdfsig") is None:
        pytest.skip("pdfsig (poppler-utils) is not installed")
    checked = subprocess.run(["pdfsig", str(report)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("Signature is Valid.") == 2
    assert "MnemoscopeApproval1" in checked.stdout and "MnemoscopeApproval2" in checked.stdout


def test_anything_appended_after_the_last_signature_fails(report: Path, tmp_path) -> None:
    pytest.importorskip("pyhanko")
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    from audit_core.report.pdf.approval import make_approval
    from audit_core.report.pdf.sign_off import approve_report
    from audit_core.report.pdf.signing import ReportSigner

    certificate = tmp_path / "officer.p12"
    make_pkcs12(certificate, b"pw")

    def append_title(path: Path) -> Path:
        """An incremental update that paints over part of the first page."""
        out = path.with_name(f"appended-{path.name}")
        with open(path, "rb") as source, open(out, "wb") as target:
            writer = IncrementalPdfFileWriter(source, strict=False)
            writer.add_stream_to_page(0, writer.add_object(generic.StreamObject(stream_data=PAINT)))
            writer.write(target)
        assert out.stat().st_size > path.stat().st_size
        return out

    # Unsigned: the update follows the file as written.
    assert any("added after the report was written" in line for line in failures(append_title(report)))
    # Approved: the update follows the approval.
    approve_report(report, ReportSigner(certificate, b"pw"), make_approval("Jane Roe, DPO", "approved"))
    assert verify_report(report).ok
    assert any("added after it was signed" in line for line in failures(append_title(report)))


def test_an_edit_slipped_in_with_the_first_signature_fails(report: Path, tmp_path) -> None:
    """A signature covers what it signs, edits included: the revision that adds the first
    signature must add nothing else."""
    pytest.importorskip("pyhanko")
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    certificate = tmp_path / "anyone.p12"
    make_pkcs12(certificate, b"pw")
    forged = tmp_path / "forged.pdf"
    with open(report, "rb") as source, open(forged, "wb") as target:
        writer = IncrementalPdfFileWriter(source, strict=False)
        writer.add_stream_to_page(0, writer.add_object(generic.StreamObject(stream_data=PAINT)))
        signers.sign_pdf(writer, signers.PdfSignatureMetadata(field_name="Approval"), output=target,
                         signer=signers.SimpleSigner.load_pkcs12(str(certificate), passphrase=b"pw"))

    assert any("changed after it was written, before it was signed" in line for line in failures(forged))


# --- any change fails ----------------------------------------------------------------------

def test_one_flipped_byte_anywhere_fails(report: Path) -> None:
    size = report.stat().st_size
    places = {
        "cover page content": stream_offset(report, lambda pdf: _first_stream(pdf.pages[0].obj.Contents)),
        "results.json attachment": stream_offset(report, lambda pdf: pdf.attachments["results.json"].obj.EF.F),
        "recorded results hash": report.read_bytes().index(b"/MnemoscopeResultsSHA256") + 30,
        **{f"{n}/8 of the file": size * n // 8 for n in range(1, 8)},
    }
    for where, at in places.items():
        assert failures(flip(report, at)), where


def _first_stream(contents):
    return contents[0] if isinstance(contents, pikepdf.Array) else contents


def _swap_attachment(path: Path, name: str, data: bytes, out: Path) -> Path:
    with pikepdf.open(path) as pdf:
        pdf.attachments[name] = pikepdf.AttachedFileSpec(pdf, data, filename=name, mime_type="application/json")
        pdf.save(out)
    return out


@needs_pdftotext
def test_a_results_json_from_another_report_fails(report: Path, tmp_path) -> None:
    other = json.loads((REPO / "tests" / "fixtures" / "report_results_full.json").read_text())
    foreign = embedded_files(shareable(other))["results.json"][0]
    swapped = _swap_attachment(report, "results.json", foreign, tmp_path / "swapped.pdf")
    reasons = " ".join(failures(swapped))
    assert "integrity record" in reasons and "the file records" in reasons

    # A careful forger also swaps the plan, rewrites the recorded hash and recomputes the
    # integrity record: the hash the pages print still tells.
    forged = _swap_attachment(swapped, "plan.json", embedded_files(shareable(other))["plan.json"][0],
                              tmp_path / "forged.pdf")
    with pikepdf.open(forged, allow_overwriting_input=True) as pdf:
        pdf.docinfo["/MnemoscopeResultsSHA256"] = results_digest(shareable(other))
        pdf.save(forged)
    reseal(forged)
    reasons = failures(forged)
    assert len(reasons) == 1 and "prints results SHA-256" in reasons[0], reasons


def test_a_plan_json_that_is_not_the_plan_in_results_fails(report: Path, tmp_path) -> None:
    with pikepdf.open(report) as pdf:
        plan = json.loads(pdf.attachments["plan.json"].get_file().read_bytes())
    plan["audit"]["seed"] = 8
    forged = _swap_attachment(report, "plan.json", json.dumps(plan).encode(), tmp_path / "plan.pdf")
    reseal(forged)
    assert ["plan.json is not the plan" in line for line in failures(forged)] == [True]


@needs_pdftotext
def test_a_printed_hash_that_differs_from_the_results_fails(tmp_path, demo_results) -> None:
    """A file the writer made consistently except for the hash its pages print."""
    document = build_report(demo_results)
    wrong = "0" * 64

    def swap(value):
        if isinstance(value, Enum):  # styles and alignments, not text
            return value
        if isinstance(value, str):
            return value.replace(document.results_digest, wrong)
        if isinstance(value, tuple):
            return tuple(swap(v) for v in value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return dataclasses.replace(value, **{f.name: swap(getattr(value, f.name))
                                                 for f in dataclasses.fields(value)})
        return value

    path = tmp_path / "printed.pdf"
    write_pdf(dataclasses.replace(document, sections=swap(document.sections)), path,
              embedded_files(shareable(demo_results)))
    reasons = failures(path)
    assert len(reasons) == 1 and "prints results SHA-256 0000000000000000" in reasons[0]


# --- bad input to `sign` -------------------------------------------------------------------

def test_sign_refuses_bad_input_with_one_line_and_exit_2(report: Path, tmp_path, monkeypatch, capsys) -> None:
    pytest.importorskip("pyhanko")
    certificate = tmp_path / "officer.p12"
    make_pkcs12(certificate, b"right")
    monkeypatch.setenv("MNEMOSCOPE_SIGNING_PASSWORD", "right")
    approver = ("--approver", "Jane Roe, DPO", "--decision", "approved")
    plain = tmp_path / "plain.pdf"
    pikepdf.new().save(plain)
    text = tmp_path / "notes.pdf"
    text.write_text("hello")
    altered = flip(report, report.stat().st_size // 2)
    original = report.read_bytes()

    cases = {
        "no such file": sign(tmp_path / "missing.pdf", certificate, *approver),
        "not a PDF": sign(text, certificate, *approver),
        "not a report written by Mnemoscope": sign(plain, certificate, *approver),
        "it was not signed": sign(altered, certificate, *approver),
        "no such certificate file": sign(report, tmp_path / "missing.p12", *approver),
        "needs the conditions": sign(report, certificate, "--approver", "J", "--decision",
                                     "approved-with-conditions"),
        "approver is missing": sign(report, certificate, "--approver", " ", "--decision", "approved"),
    }
    monkeypatch.setenv("MNEMOSCOPE_SIGNING_PASSWORD", "wrong")
    cases["cannot open the certificate"] = sign(report, certificate, *approver)
    err = capsys.readouterr().err
    assert set(cases.values()) == {2}
    lines = err.strip().splitlines()
    assert len(lines) == len(cases) and "Traceback" not in err
    for expected, line in zip(cases, lines):
        assert expected in line, (expected, line)
    assert report.read_bytes() == original  # refused: the report is untouched


def test_extract_never_replaces_an_audit_folders_results(demo_outputs: Path, tmp_path, capsys) -> None:
    """The report embeds a redacted results.json: extracting it into the audit's own folder
    must not replace the full one (issue 19), while an empty folder, or a second extraction
    of the same report into it, is written."""
    folder = tmp_path / "audit"
    shutil.copytree(demo_outputs, folder)
    before = (folder / "results.json").read_bytes()
    assert main(["verify", str(folder / "report.pdf"), "--extract", str(folder)]) == 2
    assert "never overwritten" in capsys.readouterr().err
    assert (folder / "results.json").read_bytes() == before

    fresh = tmp_path / "extracted"
    for _ in range(2):
        assert main(["verify", str(folder / "report.pdf"), "--extract", str(fresh)]) == 0
    assert json.loads((fresh / "results.json").read_text())["audit"]["id"] == json.loads(before)["audit"]["id"]
