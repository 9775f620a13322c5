"""The HMIS checker: the sample export passes; a deliberately broken copy is named fault by
fault (file, row, column); and the specification it checks against is the reference's."""

import re
import shutil
from pathlib import Path

import pytest

from fieldapp import hmis_check, hmis_spec

ROOT = Path(__file__).parents[1]
SAMPLE = ROOT / "docs" / "samples" / "hmis-street-outreach"
# ../shared beside the checkout (CI), or further up (a worktree under /work/wt/).
REFERENCE = next((p / "shared" / "reference" / "hmis-csv" / "README.md" for p in ROOT.parents
                  if (p / "shared" / "reference" / "hmis-csv" / "README.md").exists()),
                 ROOT.parent / "shared" / "reference" / "hmis-csv" / "README.md")


def test_the_sample_export_passes():
    assert hmis_check.check(SAMPLE) == []


def test_every_header_is_the_references_fy2026_row():
    if not REFERENCE.exists():
        pytest.skip(f"the HMIS reference is not beside this checkout ({REFERENCE})")
    block = REFERENCE.read_text().split("### 1.0 Exact header rows")[1].split("```")[1]
    rows, current = {}, None
    for line in block.splitlines():
        if found := re.fullmatch(r"(\w+)\.csv", line.strip()):
            current = found.group(1)
        elif found := re.match(r"\s*FY2024: (.*)", line):
            rows[current] = found.group(1).split(",")
        elif (found := re.match(r"\s*FY2026: (.*)", line)) and not found.group(1).startswith("("):
            rows[current] = found.group(1).split(",")
    assert set(rows) == set(hmis_spec.ALL_FILES)
    for name, header in rows.items():
        assert hmis_spec.header(name) == header, name


def lines(folder: Path, name: str) -> list[str]:
    return (folder / f"{name}.csv").read_bytes().decode("utf-8").split("\r\n")


def edit(folder: Path, name: str, row: int, column: str, value: str) -> None:
    """Set one raw cell (text as it goes in the file) of data row `row`."""
    text = lines(folder, name)
    header = text[0].split(",")
    cells = hmis_check._records(text[row] + "\n")[0]
    raw = [f'"{v}"' if q else v for v, q in cells]
    raw[header.index(column)] = value
    text[row] = ",".join(raw)
    (folder / f"{name}.csv").write_bytes("\r\n".join(text).encode("utf-8"))


def cell(folder: Path, name: str, row: int, column: str) -> str:
    header = lines(folder, name)[0].split(",")
    return hmis_check._records(lines(folder, name)[row] + "\n")[0][header.index(column)][0]


def test_a_broken_export_is_named_fault_by_fault(tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(SAMPLE, broken)
    (broken / "Exit.csv").unlink()
    text = lines(broken, "Project")
    (broken / "Project.csv").write_bytes("\r\n".join(
        [text[0].replace("ProjectName", "Projectname"), *text[1:]]).encode("utf-8"))
    edit(broken, "CurrentLivingSituation", 1, "ExportID", '"someotherexport"')
    edit(broken, "CurrentLivingSituation", 2, "CurrentLivingSituation", "999")
    edit(broken, "CurrentLivingSituation", 3, "InformationDate", "2026-13-01")
    edit(broken, "CurrentLivingSituation", 4, "LocationDetails", '"' + "x" * 251 + '"')
    edit(broken, "CurrentLivingSituation", 5, "EnrollmentID", '"notanenrollment"')
    edit(broken, "CurrentLivingSituation", 6, "LocationDetails", "unquoted")
    edit(broken, "CurrentLivingSituation", 7, "LocationDetails", '"under the <bridge>"')
    edit(broken, "CurrentLivingSituation", 8, "CLSSubsidyType", "419")
    edit(broken, "Client", 1, "NameDataQuality", "")
    edit(broken, "Client", 2, "SSN", '"12345"')
    edit(broken, "Enrollment", 1, "PersonalID", '"nobody"')
    edit(broken, "Enrollment", 2, "EnrollmentCoC", '"AZ-500"')
    edit(broken, "Enrollment", 3, "RelationshipToHoH", "2")
    edit(broken, "Enrollment", 4, "DateOfEngagement", "2020-01-01")
    edit(broken, "Services", 1, "TypeProvided", "13")  # in neither P1.2 nor P2.2
    path_service = next(n for n in range(1, 6) if cell(SAMPLE, "Services", n, "RecordType")
                        == "141")
    edit(broken, "Services", path_service, "ReferralOutcome", "1")
    edit(broken, "Funder", 1, "Funder", "46")
    edit(broken, "Export", 1, "CSVVersion", '"FY26"')
    (broken / "User.csv").write_bytes((broken / "User.csv").read_bytes().replace(
        b"Dana", b"D\xe9na"))
    with open(broken / "Organization.csv", "ab") as f:
        f.write(b'"extra",row\r\n')

    found = {(f.file, f.row, f.column): f.problem for f in hmis_check.check(broken)}
    expected = {
        ("Exit.csv", 0, ""): "missing",
        ("Project.csv", 0, ""): "header column 3 is 'Projectname'; FY2026 has 'ProjectName'",
        ("CurrentLivingSituation.csv", 1, "ExportID"): "is not the ExportID of Export.csv",
        ("CurrentLivingSituation.csv", 2, "CurrentLivingSituation"):
            "999 is not a current living situation code",
        ("CurrentLivingSituation.csv", 3, "InformationDate"): "must be a date YYYY-MM-DD",
        ("CurrentLivingSituation.csv", 4, "LocationDetails"): "too long (251 characters; at "
                                                              "most 250)",
        ("CurrentLivingSituation.csv", 5, "EnrollmentID"): "is not an EnrollmentID in "
                                                           "Enrollment.csv",
        ("CurrentLivingSituation.csv", 6, "LocationDetails"): "text must be in double quotes",
        ("CurrentLivingSituation.csv", 7, "LocationDetails"): "contains < >",
        ("CurrentLivingSituation.csv", 8, "CLSSubsidyType"): "must be empty unless "
                                                             "CurrentLivingSituation is 435",
        ("Client.csv", 1, "NameDataQuality"): "required",
        ("Client.csv", 2, "SSN"): "must be nine digits",
        ("Enrollment.csv", 1, "PersonalID"): "'nobody' is not a PersonalID in Client.csv",
        ("Enrollment.csv", 2, "EnrollmentCoC"): "'AZ-500' is not a CoCCode of project",
        ("Enrollment.csv", 3, "RelationshipToHoH"): "has 0 heads",
        ("Enrollment.csv", 4, "DateOfEngagement"): "is before EntryDate",
        ("Services.csv", 1, "TypeProvided"): "13 is not in code list",
        ("Services.csv", path_service, "ReferralOutcome"): "must be empty unless RecordType "
                                                           "is 161",
        ("Funder.csv", 1, "OtherFunder"): "required when Funder is 46",
        ("Export.csv", 1, "CSVVersion"): "must be '[year] v[version]'",
        ("User.csv", 1, ""): "not UTF-8",
        ("Organization.csv", 2, ""): "2 fields; the header has 9",
    }
    for where, words in expected.items():
        assert where in found, f"{where} not reported; found {sorted(found)}"
        assert words in found[where], (where, found[where])
    # and what follows from them: the client whose one enrollment now names nobody is left
    # unenrolled; the CLS and Services rows of that enrollment are no longer its person's
    orphan = cell(SAMPLE, "Enrollment", 1, "PersonalID")
    [client_row] = [n for n in range(1, 7) if cell(SAMPLE, "Client", n, "PersonalID") == orphan]
    assert "has no enrollment" in found[("Client.csv", client_row, "PersonalID")]
    follows = {where for where, problem in found.items() if "is not the person of" in problem}
    explained = set(expected) | {("Client.csv", client_row, "PersonalID")} | follows
    assert set(found) == explained, sorted(set(found) - explained)


def test_findings_read_as_file_row_and_column():
    finding = hmis_check.Finding("Client.csv", 3, "DOB", "must be a date YYYY-MM-DD")
    assert str(finding) == "Client.csv row 3 DOB: must be a date YYYY-MM-DD"
    assert str(hmis_check.Finding("Exit.csv", 0, "", "missing")) == "Exit.csv: missing"


def test_an_empty_folder_names_every_required_file(tmp_path):
    missing = {f.file for f in hmis_check.check(tmp_path)}
    assert missing == {f"{name}.csv" for name in hmis_spec.REQUIRED_FILES}
