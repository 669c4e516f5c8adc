"""Commands that turn solutions and instances into files for people: HTML reports, PNG figures, workbooks."""

from __future__ import annotations

import click

from .common import instance_path


@click.command("report")
@click.argument("solutions", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
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
    type=click.Path(exists=True),
    default=None,
    help="Instance folder or workbook (default: the one named in each summary.json).",
)
def report_command(solutions, out, png_dir, instance):
    """Write one self-contained HTML report of one or more solution folders (side by side on the same scales)."""
    from ..reports.html import write_report

    files = write_report(list(solutions), out, png_dir, instance)
    click.echo(f"Report written to {files.html} ({files.html.stat().st_size / 1e6:.1f} MB, works offline)")
    for path in files.pngs:
        click.echo(f"Figure written to {path}")


@click.command("export-instance")
@click.argument("instance", required=False)
@click.option("--xlsx", "target", type=click.Path(dir_okay=False), required=True, help="Workbook to write (.xlsx).")
def export_instance_command(instance, target):
    """Write an instance (default: the bundled nl-2024) as an Excel workbook to edit and solve."""
    from ..data.workbook import export_instance

    if not target.lower().endswith(".xlsx"):
        raise click.BadParameter("the workbook name must end in .xlsx", param_hint="--xlsx")
    path = export_instance(instance_path(instance), target)
    from openpyxl import load_workbook

    sheets = load_workbook(path, read_only=True).sheetnames
    click.echo(f"Workbook written to {path} (sheets: {', '.join(sheets)})")
