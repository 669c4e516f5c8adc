"""Commands that turn solutions and instances into files for people: HTML reports, PNG figures, workbooks."""

from __future__ import annotations

import click

from .common import deprecated, existing_folders, given_instance, instance_path, solutions_and_instance


@click.command("report")
@click.argument("arguments", nargs=-1, required=True, metavar="SOLUTION... [INSTANCE]")
@click.option(
    "--out", type=click.Path(dir_okay=False), default="report.html", show_default=True, help="HTML file to write."
)
@click.option(
    "--png",
    "png_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Also write the map and charts as PNG files into this folder.",
)
@click.option(
    "--instance",
    "old_instance",
    default=None,
    hidden=True,
    help="Deprecated: give the instance after the solution folders.",
)
def report_command(arguments, out, png_dir, old_instance):
    """Write one self-contained HTML report of one or more solution folders (side by side on the same scales).

    The instance is the one each folder's summary.json names, unless INSTANCE (a folder, a workbook or a
    bundled name) follows the solution folders.
    """
    from ..results.solution import is_horizon_folder

    solutions, instance = solutions_and_instance(arguments)
    if old_instance is not None:
        deprecated("report --instance PATH", "allocator report SOLUTION... INSTANCE")
        if instance is not None:
            raise click.UsageError("the instance is given twice: after the solution folders and with --instance")
        instance = old_instance
    existing_folders(solutions)
    instance = given_instance(instance)
    if any(is_horizon_folder(s) for s in solutions):
        from ..reports.horizon_html import write_horizon_report

        if len(solutions) > 1:
            raise click.BadParameter(
                "a plan over several periods is reported on its own: give one solution folder", param_hint="SOLUTION"
            )
        files = write_horizon_report(solutions[0], out, png_dir, instance)
    else:
        from ..reports.html import write_report

        files = write_report(list(solutions), out, png_dir, instance)
    click.echo(f"Report written to {files.html} ({files.html.stat().st_size / 1e6:.1f} MB, works offline)")
    for path in files.pngs:
        click.echo(f"Figure written to {path}")


@click.command("export-instance")
@click.argument("instance", required=False)
@click.option("--out", "target", type=click.Path(dir_okay=False), default=None, help="Workbook to write (.xlsx).")
@click.option("--xlsx", "old_target", type=click.Path(dir_okay=False), default=None, hidden=True)
def export_instance_command(instance, target, old_target):
    """Write an instance (default: the bundled nl-2024) as an Excel workbook to edit and solve."""
    from ..data.workbook import export_instance

    if old_target is not None:
        deprecated("export-instance --xlsx FILE", "--out FILE")
        if target is not None:
            raise click.UsageError("the workbook is given twice: with --out and with --xlsx")
        target = old_target
    if target is None:
        raise click.UsageError("Missing option '--out' (the workbook to write, .xlsx).")
    if not target.lower().endswith(".xlsx"):
        raise click.BadParameter("the workbook name must end in .xlsx", param_hint="--out")
    path = export_instance(instance_path(instance), target)
    from openpyxl import load_workbook

    sheets = load_workbook(path, read_only=True).sheetnames
    click.echo(f"Workbook written to {path} (sheets: {', '.join(sheets)})")
