"""The report as a file to archive and rely on: PDF/A-3b, the results and plan embedded,
bookmarks, reproducible content, no patient data in its text, and `mnemoscope verify`
(with and without a PAdES signature)."""

from __future__ import annotations

import json

import pikepdf
import pikepdf.pdfa
import pytest

from audit_core.cli.main import main
from audit_core.report import write_report
from audit_core.report.sections.attachments import digest
from audit_core.report.sections.document import build_report
from tests.core.report_samples import (  # `results`, the fixture, comes from conftest.py
    PLANTED,
    make_pkcs12,
    record_ids,
    with_planted_phi,
)
from tests.printed_tokens import pdf_text as read_pdf_text


def pdf_text(path) -> str:
    return read_pdf_text(path, "-layout")


def valid_pdf_a(path, tmp_path) -> bool:
    """PDF/A-3b as pikepdf validated it when writing: the report then gets an empty form
    (for later signatures to add their fields to; PDF/A-3 allows one), which pikepdf's
    validator does not check, so it is taken out again here."""
    copy = tmp_path / f"without-form-{path.name}"
    with pikepdf.open(path) as pdf:
        assert list(pdf.Root.AcroForm.Fields) == []
        del pdf.Root["/AcroForm"]
        pdf.save(copy)
    return pikepdf.pdfa.validate_written(copy, "3b").passed


@pytest.fixture
def written(tmp_path, results):
    path = tmp_path / "report.pdf"
    write_report(results, path)
    return path


def test_the_report_is_valid_pdf_a_3b_with_results_and_plan_embedded(written, results, tmp_path):
    assert valid_pdf_a(written, tmp_path)
    with pikepdf.open(written) as pdf:
        assert set(pdf.attachments) == {"results.json", "plan.json"}
        embedded = json.loads(pdf.attachments["results.json"].get_file().read_bytes())
        plan = json.loads(pdf.attachments["plan.json"].get_file().read_bytes())
        assert "pdfaid" in str(pdf.open_metadata())
        outline = [item.title for item in pdf.open_outline().root]
    assert digest(embedded) == build_report(results).results_digest
    assert plan == results["plan"]
    # The embedded copy is shareable: no record id, no pseudonym key.
    assert not any(record_id in json.dumps(embedded) for record_id in record_ids(results))
    assert outline[:5] == ["Summary", "Findings and required actions", "What a PASS does not prove",
                           "Sign-off", "1. Model and data"]
    assert outline[-2:] == ["Appendix B. Regulatory clause map", "Appendix C. Glossary, definitions and formulas"]


def test_the_same_results_give_the_same_pdf_content(tmp_path, results):
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    write_report(results, first)
    write_report(results, second)

    def content(path):
        with pikepdf.open(path) as pdf:
            pages = [page.obj.Contents.read_bytes() for page in pdf.pages]
            files = {name: spec.get_file().read_bytes() for name, spec in pdf.attachments.items()}
        return pages, files

    assert content(first) == content(second)


def test_planted_names_mrns_and_note_text_never_reach_the_pdf(tmp_path, results):
    planted = with_planted_phi(results)
    path = tmp_path / "report.pdf"
    write_report(planted, path)

    text = pdf_text(path)
    with pikepdf.open(path) as pdf:
        embedded = pdf.attachments["results.json"].get_file().read_bytes().decode("utf-8")
    values = [*PLANTED["names"], *PLANTED["mrns"], PLANTED["note"], PLANTED["phone"], PLANTED["email"],
              "Smithers", "cocaine", "Lakeview", "k" * 64]
    for value in values:
        assert value not in text, value
        assert value not in embedded, value
    assert "R-PLANTED01" in text  # the record is still named, by its pseudonym
    assert "[NAME]" in text and "[MRN]" in text


def test_verify_accepts_an_untouched_report_and_rejects_altered_results(tmp_path, written, capsys):
    assert main(["verify", str(written)]) == 0
    out = capsys.readouterr().out
    assert "hashes to the results SHA-256 the file records" in out and "FAIL" not in out

    altered = tmp_path / "altered.pdf"
    with pikepdf.open(written) as pdf:
        results = json.loads(pdf.attachments["results.json"].get_file().read_bytes())
        results["overall_verdict"] = "pass"
        pdf.attachments["results.json"] = pikepdf.AttachedFileSpec(pdf, json.dumps(results).encode())
        pdf.save(altered)
    assert main(["verify", str(altered)]) == 2
    assert "altered" in capsys.readouterr().out

    not_pdf = tmp_path / "note.pdf"
    not_pdf.write_text("hello")
    assert main(["verify", str(not_pdf)]) == 2
    assert main(["verify", str(tmp_path / "missing.pdf")]) == 2


def test_a_signed_report_verifies_and_any_later_change_is_caught(tmp_path, results, capsys):
    pytest.importorskip("pyhanko")
    from audit_core.report.pdf.signing import ReportSigner, SigningError

    certificate = tmp_path / "hospital.p12"
    make_pkcs12(certificate, b"s3cret")
    path = tmp_path / "signed.pdf"
    write_report(results, path, signer=ReportSigner(certificate, b"s3cret"))

    text = " ".join(pdf_text(path).split())
    assert "Signed when issued by" in text and "this signature is not an approval" in text
    assert main(["verify", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Signature 1: intact and valid; signed when issued by" in out and "Test Privacy Office" in out

    appended = tmp_path / "appended.pdf"
    with pikepdf.open(path) as pdf:  # an incremental edit after signing: a new page title
        pdf.docinfo["/Title"] = "Nothing to see"
        pdf.save(appended)
    assert main(["verify", str(appended)]) == 2

    flipped = tmp_path / "flipped.pdf"
    data = bytearray(path.read_bytes())
    at = data.index(b"/Subject")
    data[at + 12] ^= 0x01
    flipped.write_bytes(bytes(data))
    assert main(["verify", str(flipped)]) == 2

    with pytest.raises(SigningError, match="cannot open the certificate"):
        ReportSigner(certificate, b"wrong").load()


def test_verify_trusts_a_signer_only_against_the_roots_given(tmp_path, results, capsys):
    pytest.importorskip("pyhanko")
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

    from audit_core.report.pdf.signing import ReportSigner

    certificate = tmp_path / "hospital.p12"
    make_pkcs12(certificate, b"pw")
    root = tmp_path / "root.pem"
    root.write_bytes(pkcs12.load_key_and_certificates(certificate.read_bytes(), b"pw")[1].public_bytes(Encoding.PEM))
    path = tmp_path / "signed.pdf"
    write_report(results, path, signer=ReportSigner(certificate, b"pw"))

    assert main(["verify", str(path), "--trust", str(root), "--extract", str(tmp_path / "files")]) == 0
    out = capsys.readouterr().out
    assert "Test Privacy Office" in out and "; trusted." in out
    assert json.loads((tmp_path / "files" / "plan.json").read_text()) == results["plan"]


def test_run_with_a_certificate_it_cannot_open_stops_before_the_audit(tmp_path, monkeypatch, capsys):
    pytest.importorskip("pyhanko")
    from tests.core.report_samples import REPO

    certificate = tmp_path / "hospital.p12"
    make_pkcs12(certificate, b"right")
    monkeypatch.setenv("MNEMOSCOPE_SIGNING_PASSWORD", "wrong")
    out = tmp_path / "out"

    code = main(["run", str(REPO / "resources" / "demo" / "plan.toml"), "--out", str(out), "--sign", str(certificate)])

    assert code == 2 and not out.exists()
    assert "cannot open the certificate" in capsys.readouterr().err


def test_a_full_demo_run_with_every_optional_field_renders_as_valid_pdf_a(tmp_path):
    """A real `make demo` results.json with split validity, subgroups, held-out operating
    points and attack strengths (tests/fixtures/report_results_full.json)."""
    from tests.core.report_samples import REPO

    full = json.loads((REPO / "tests" / "fixtures" / "report_results_full.json").read_text())
    path = tmp_path / "report.pdf"
    write_report(full, path)

    assert valid_pdf_a(path, tmp_path)
    keys = [s.key for s in build_report(full).sections]
    assert "subgroups" in keys
    text = pdf_text(path)
    # Cells the engine suppressed without saying why show "not shown", never "<11", which
    # would claim a count below 11 (issue 14, defect 2).
    assert "VALID" in text and "Held out" in text and "not shown" in text
    assert "<11 / " not in text and " / <11" not in text
    assert not any(record_id in text for record_id in record_ids(full))


def test_a_report_that_fails_pdf_a_validation_is_still_written(tmp_path, results, monkeypatch, caplog):
    def refuses(*_, **__):
        raise pikepdf.pdfa.PdfaError(pikepdf.pdfa.Report(
            flavour=pikepdf.pdfa.Flavour("3b"), findings=[], save_kwargs={}, output_intent=None, prepared=None))

    monkeypatch.setattr(pikepdf.pdfa, "save", refuses)
    path = tmp_path / "report.pdf"
    write_report(results, path)

    assert "written as a plain PDF" in caplog.text
    assert main(["verify", str(path)]) == 0
