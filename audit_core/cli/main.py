"""The `mnemoscope` command: run an audit from a plan, inspect a model, list the probes.

The only core module that prints. Bad input ends with a one-line message and exit code
2; Ctrl-C stops the audit at the next batch, writes what finished (marked incomplete)
and exits with 130.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from dataclasses import replace
from pathlib import Path

from audit_core.cli import heap
from audit_core.cli.crash_log import CrashLog, terminal_handler
from audit_core.cli.estimate_line import print_estimate
from audit_core.cli.fhir_command import add_fhir_command
from audit_core.cli.report_commands import add_report_commands, load_signer
from audit_core.cli.terminal import ProgressBar, format_summary
from audit_core.errors import MnemoscopeError
from audit_core.run.output_folder import ERROR_LOG
from audit_core.version import TOOL_NAME, __version__

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3
EXIT_CANCELLED = 130


def main(argv: list[str] | None = None) -> int:
    """`argv` None: the process's own command line, and the process is this command's
    alone (it ends when this returns), which lets `run` keep the garbage collector off
    the objects it keeps (cli/heap.py); a caller passing `argv` (tests) keeps its heap."""
    parser = _parser()
    args = parser.parse_args(argv)
    args.settle = heap.settle if argv is None else heap.leave_as_is
    # One line per warning on the terminal; tracebacks go to the error log (cli/crash_log.py).
    logging.basicConfig(level=logging.WARNING, handlers=[terminal_handler()])
    try:
        return args.handler(args)
    except MnemoscopeError as exc:
        print(f"{TOOL_NAME}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"{TOOL_NAME}: interrupted", file=sys.stderr)
        return EXIT_CANCELLED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=TOOL_NAME, description="Audit a clinical language model for memorization of patient data.")
    parser.add_argument("--version", action="version", version=f"{TOOL_NAME} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the audit a plan file describes")
    run.add_argument("plan", type=Path, help="plan file (TOML or JSON)")
    run.add_argument("--out", type=Path, required=True, help="folder for report.pdf, results.json, records.csv")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    again = run.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="continue the interrupted audit whose checkpoint is in --out (same plan "
                            "and input files), reusing the work it finished")
    again.add_argument("--restart", action="store_true",
                       help="discard the checkpoint of an interrupted audit in --out and start again")
    run.add_argument("--sign", type=Path, metavar="P12",
                     help="sign report.pdf when it is written (PAdES) with this PKCS#12 certificate, "
                          "to protect the file; this is not an approval (see `sign`). The password "
                          "comes from $MNEMOSCOPE_SIGNING_PASSWORD or a prompt, never from the plan")
    run.add_argument("--cluster", metavar="ADDRESS", help="run on a Ray cluster, over [run] cluster: auto "
                     "(a local Ray), ray (this machine's) or ray://host:port (docs/cluster.md)")
    run.set_defaults(handler=_run)

    add_report_commands(commands)  # verify, sign

    inspect = commands.add_parser("inspect", help="show what the tool sees in a model")
    inspect.add_argument("model", type=Path, help="model folder or .onnx file")
    inspect.add_argument("--json", action="store_true", help="machine-readable output")
    inspect.add_argument("--data", type=Path, metavar="PLAN",
                         help="also show the plan's first records as this model's tokenizer sees "
                              "them (words it does not know marked); patient data, on screen only")
    inspect.add_argument("--counts-only", action="store_true",
                         help="with --data: numbers only, no record's words")
    inspect.set_defaults(handler=_inspect)

    probes = commands.add_parser("probes", help="list the probes, their settings and needs")
    probes.add_argument("--json", action="store_true", help="machine-readable output")
    probes.add_argument("--model", type=Path, help="list only the probes that apply to this "
                                                   "model (folder or .onnx file)")
    probes.set_defaults(handler=_probes)

    convert = commands.add_parser(
        "convert", help="turn a local Hugging Face causal LM folder into a checked ONNX folder "
                        "(needs torch and transformers)")
    convert.add_argument("source", type=Path, help="Hugging Face model folder (config.json, "
                                                    "*.safetensors, tokenizer files)")
    convert.add_argument("out", type=Path, help="folder to write (model.onnx, tokenizer.json, "
                                                 "config.json, manifest.json)")
    convert.add_argument("--tolerance", type=float, default=1e-3,
                         help="largest accepted |logit difference| between onnxruntime and torch")
    convert.add_argument("--overwrite", action="store_true",
                         help="replace OUT if it holds files (only once the new export is checked)")
    convert.set_defaults(handler=_convert)

    add_fhir_command(commands)  # convert-fhir

    canaries = commands.add_parser(
        "canaries", help="make synthetic canary records to insert before training, with a secret "
                         "seed file (the canary_exposure probe measures them afterwards)")
    canaries.add_argument("--out", type=Path, required=True,
                          help="new folder for manifest.json and canaries.csv")
    canaries.add_argument("--count", type=int, required=True, help="number of canaries")
    canaries.add_argument("--seed-file", type=Path, required=True,
                          help="secret seed file to create (0600; never overwritten)")
    canaries.add_argument("--kind", choices=("codes", "text"), default="codes",
                          help="the cohort's record kind")
    canaries.add_argument("--cohort", type=Path,
                          help="training cohort file; code canaries are written in its codes")
    canaries.add_argument("--column", help="the cohort's sequence column (default: codes or text)")
    canaries.add_argument("--id-column", default="patient_id", help="id column of canaries.csv")
    canaries.add_argument("--repeats", default="1,4,16,64",
                          help="insertion counts, assigned to the canaries in turn")
    canaries.add_argument("--secret-length", type=int, default=4, help="symbols per secret")
    canaries.add_argument("--alphabet-size", type=int, default=10, help="symbols to draw from")
    canaries.set_defaults(handler=_canaries)

    validate = commands.add_parser(
        "validate", help="check this installation and run the known-answer audits; writes a "
                         "validation certificate (PDF and JSON)")
    validate.add_argument("--out", type=Path, help="folder for the certificate (default: the "
                                                   "per-user folder that audits cite)")
    validate.add_argument("--json", action="store_true", help="print the certificate as JSON")
    validate.add_argument("--quiet", action="store_true", help="no progress bar")
    validate.set_defaults(handler=_validate)

    bench = commands.add_parser(
        "bench", help="calibrate this workstation (stored in your config folder) so audits can be "
                      "timed before they start; --compare measures the engine against torch")
    bench.add_argument("--compare", action="store_true",
                       help="also compare with transformers/torch eager on a ~20M-parameter model "
                            "(needs the controls extra), measure the GEMM peak, int8 and memory")
    bench.add_argument("--repeats", type=int, default=5, help="timed repeats per measurement (median)")
    bench.add_argument("--memory-sizes", default="10000,100000", metavar="N,N",
                       help="cohort sizes for the peak-memory measurement (--compare)")
    bench.add_argument("--no-save", action="store_true", help="measure without storing the calibration")
    bench.add_argument("--json", action="store_true", help="machine-readable output")
    bench.set_defaults(handler=_bench)
    return parser


def _run(args: argparse.Namespace) -> int:
    args.settle()  # the CLI's modules (cli/heap.py: the collector walks what it keeps)
    from audit_core.cli.decoding_line import print_decoding_notice
    from audit_core.cli.left_out import print_left_out
    from audit_core.cli.reference_line import print_reference
    from audit_core.plan.parsing import load_plan
    from audit_core.plan.run_keys import check_address
    from audit_core.run.output_folder import check_output_folder
    from audit_core.run.outputs import write_outputs
    from audit_core.run.runner import run_audit
    from audit_core.work.checkpoints import CheckpointRequest
    from audit_core.work.progress import Cancelled, CancelToken

    plan = load_plan(args.plan)
    if args.cluster is not None:  # --cluster overrides [run] cluster (plan/run_keys.py)
        plan = replace(plan, run=replace(plan.run, cluster=check_address(args.cluster, "--cluster")))
    signer = load_signer(args.sign) if args.sign else None  # a bad certificate fails before the run
    check_output_folder(args.out, plan)  # before any model work
    # --restart discards the checkpoint once the run knows the folder is this audit's own.
    checkpoint = CheckpointRequest(args.out, resume=args.resume, restart=args.restart)
    if args.resume and not checkpoint.path.is_file() and not args.quiet:
        print(f"{TOOL_NAME}: no interrupted audit in {args.out}; running from the start",
              file=sys.stderr)
    if not args.quiet:
        print_left_out(plan, sys.stderr)  # probes that do not apply to these records, and why
        print_reference(plan, sys.stderr)  # which reference calibrates the attacks (cli/reference_line.py)
        print_decoding_notice(plan, sys.stderr)  # an export without a KV cache (cli/decoding_line.py)
        print_estimate(plan)
    cancel = CancelToken()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
    bar = ProgressBar(sys.stderr, enabled=not args.quiet)
    args.settle()  # the modules, the plan
    try:
        with CrashLog(args.out) as crashes:  # a probe's traceback: the error log, not the terminal
            result = run_audit(plan, on_progress=bar.update, cancel=cancel, checkpoint=checkpoint)
    except MnemoscopeError:
        bar.close()
        raise
    except Cancelled:  # stopped while the model or data were still loading: nothing to write
        bar.close()
        print(f"{TOOL_NAME}: cancelled before any probe ran; nothing was written", file=sys.stderr)
        return EXIT_CANCELLED
    except Exception as exc:
        bar.close()
        return _internal_error(exc, args.out)
    finally:
        signal.signal(signal.SIGINT, previous)
    bar.close()
    if crashes.count:
        print(f"{TOOL_NAME}: {crashes.count} probe(s) failed and are shown as not assessed; details "
              f"in {crashes.path}. Please report it with that file.", file=sys.stderr)
    args.settle()  # the result
    try:
        paths = write_outputs(result, args.out, signer=signer)
    except MnemoscopeError:
        raise
    except OSError as exc:
        raise MnemoscopeError(f"cannot write the results into {args.out}: "
                              f"{exc.strerror or exc.__class__.__name__}") from None
    except Exception as exc:
        return _internal_error(exc, args.out)
    if not result.cancelled:  # finished and written: nothing left to resume
        checkpoint.discard()
    elif not args.quiet:
        print(f"{TOOL_NAME}: finished work is kept in {checkpoint.path}; continue with --resume",
              file=sys.stderr)
    if result.resumed and not args.quiet:
        print(f"{TOOL_NAME}: resumed: {result.resumed} units of finished work read back from "
              "the checkpoint", file=sys.stderr)
    print(format_summary(result.report_dict(), paths))
    args.settle()  # everything: the interpreter's exit need not walk it
    return EXIT_CANCELLED if result.cancelled else 0


def _canaries(args: argparse.Namespace) -> int:
    from audit_core.tools.canary_command import make_canaries

    print(make_canaries(out=args.out, count=args.count, seed_file=args.seed_file, kind=args.kind,
                        cohort=args.cohort, column=args.column, id_column=args.id_column,
                        repeats=args.repeats, secret_length=args.secret_length,
                        alphabet_size=args.alphabet_size))
    return 0


def _internal_error(exc: Exception, out_dir: Path) -> int:
    """A bug, not bad input: keep the traceback in a file (0600: it may quote data), show
    one line. The handler of last resort: nothing in it may raise, whatever the folder."""
    log_path = out_dir / ERROR_LOG
    try:
        import traceback

        from audit_core.results.atomic import write_atomic  # temporary name, 0600, then renamed

        out_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(log_path, "".join(traceback.format_exception(exc)).encode("utf-8", "replace"))
        where = f"details in {log_path}. Please report it with that file."
    except Exception as problem:
        reason = getattr(problem, "strerror", None) or problem.__class__.__name__
        where = f"the details could not be written to {log_path} ({reason}). Please report it."
    try:
        print(f"{TOOL_NAME}: internal error ({exc.__class__.__name__}); {where}", file=sys.stderr)
    except Exception:  # stderr itself is gone: the exit code still says it
        pass
    return EXIT_INTERNAL


def _inspect(args: argparse.Namespace) -> int:
    from audit_core.cli.terminal import format_model
    from audit_core.models.inspection import CAUSAL_LM, inspect_model
    from audit_core.probes import PROBES

    info = inspect_model(args.model)
    details = info.as_dict()
    details["probes_offered"] = [p.id for p in PROBES if p.needs.applies_to(info.kind)]
    if info.kind == CAUSAL_LM:
        from audit_core.cli.decoding_line import decoding_details
        from audit_core.cli.side_input_listing import load_for_inspection

        details.update(load_for_inspection(info))
        details.update(decoding_details(info))  # without a KV cache: what it costs, the fix
    if args.data is not None:  # the records' words: this terminal only (cli/data_view.py)
        from audit_core.cli.data_view import data_details, format_data

        details["data"] = data_details(args.model, args.data, args.counts_only)
    if args.json:
        print(json.dumps(details, indent=2))
    else:
        print(format_model(details) + ("\n" + format_data(details["data"]) if "data" in details else ""))
    return 0


def _probes(args: argparse.Namespace) -> int:
    from audit_core.cli.terminal import format_probes
    from audit_core.probes import PROBES
    from audit_core.probes.selection import threshold_tables
    from audit_core.settings import describe

    kind = None
    if args.model is not None:
        from audit_core.models.inspection import inspect_model

        kind = inspect_model(args.model).kind
    listing = [{"id": p.id, "title": p.title, "family": p.family, "question": p.question,
                "citation": p.citation, "needs": p.needs.describe(),
                "model_kinds": list(p.needs.model_kinds),
                "settings": [f.as_dict() for f in describe(p.config_type)]} for p in PROBES
               if kind is None or p.needs.applies_to(kind)]
    thresholds = {family: [f.as_dict() for f in describe(kind)]
                  for family, kind in threshold_tables().items()}
    if args.json:
        print(json.dumps({"probes": listing, "thresholds": thresholds}, indent=2))
    else:
        print(format_probes(listing, thresholds))
    return 0


def _convert(args: argparse.Namespace) -> int:
    from audit_core.tools.conversion import convert_model

    if not 0 < args.tolerance <= 1e-2:
        raise MnemoscopeError(f"--tolerance {args.tolerance:g} is out of range (0, 0.01]")
    report = convert_model(args.source, args.out, tolerance=args.tolerance,
                           overwrite=args.overwrite,
                           on_step=lambda message: print(f"{TOOL_NAME}: {message}", file=sys.stderr))
    print(report.summary())
    return 0


def _validate(args: argparse.Namespace) -> int:
    """Exit 0 when every check passed, 1 when any failed (the certificate says which)."""
    from audit_core.cli.terminal import format_validation
    from audit_core.tools.validation import run_validation
    from audit_core.work.progress import Cancelled, CancelToken

    cancel = CancelToken()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
    bar = ProgressBar(sys.stderr, enabled=not args.quiet)
    try:
        result = run_validation(args.out, on_progress=bar.update, cancel=cancel)
    except Cancelled:
        bar.close()
        print(f"{TOOL_NAME}: validation cancelled; no certificate was written", file=sys.stderr)
        return EXIT_CANCELLED
    finally:
        signal.signal(signal.SIGINT, previous)
    bar.close()
    if args.json:
        print(json.dumps(result.certificate, indent=2))
    else:
        print(format_validation(result.certificate, result.json_path, result.pdf_path,
                                result.certificate_sha256))
    return 0 if result.passed else 1


def _bench(args: argparse.Namespace) -> int:
    from audit_core.tools.bench.calibration import calibrate, calibration_path

    if args.repeats < 1:
        raise MnemoscopeError(f"--repeats must be at least 1 (got {args.repeats})")
    try:
        sizes = tuple(int(n) for n in args.memory_sizes.split(",") if n.strip())
    except ValueError:
        raise MnemoscopeError(f"--memory-sizes must be numbers separated by commas "
                              f"(got '{args.memory_sizes}')") from None
    if any(n < 1 for n in sizes):
        raise MnemoscopeError("--memory-sizes must be positive")
    say = (lambda message: None) if args.json else (
        lambda message: print(f"{TOOL_NAME}: {message}", file=sys.stderr))
    result = {"calibration": calibrate(repeats=args.repeats, save=not args.no_save, say=say)}
    if args.compare:
        try:
            from audit_core.tools.bench.compare import format_compare, run_compare
        except ImportError as exc:
            raise MnemoscopeError(f"bench --compare needs torch and transformers (the controls "
                                  f"extra): {exc.name} is not installed") from None
        result["compare"] = run_compare(repeats=args.repeats, memory_sizes=sizes, say=say)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    c = result["calibration"]
    print(f"calibration ({c['reference']['parameters'] / 1e6:.1f}M-parameter reference, "
          f"{c['machine']['threads']} threads, {c['machine']['execution_provider']}): scoring "
          f"{c['scoring_tokens_per_s']:,.0f} tok/s, greedy generation "
          f"{c['generation']['batch_1_tokens_per_s']:,.0f} tok/s at batch 1 and "
          f"{c['generation']['batch_16_tokens_per_s']:,.0f} at batch 16; fp32 GEMM peak "
          f"{c['gemm_peak_gflops']['peak']:.1f} GFLOP/s")
    print(f"stored in {calibration_path()}" if not args.no_save else "not stored (--no-save)")
    if args.compare:
        print(format_compare(result["compare"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
