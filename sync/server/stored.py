"""How the server keeps a record's fields, field stamps and an op's result: in few bytes, since
every record and every op it was sent are kept for good.

Field stamps (`record.field_hlc`): the clock stamp of each field's last write decides a
conflict's winner. Most fields keep the stamp of the create, so only the others are stored,
grouped by stamp: `{"<stamp>": ["field", ...], ...}`, `{}` when every field has its create's
stamp. A field not listed has the record's created_hlc.

Results (`applied_op.result`): what the op got, without its op_id (the row's key holds it). An
op applied with nothing else to say is its version as digits ("3"); one whose answer also
listed no conflicts (a patch, a delete) adds "[]" ("3[]"); any other answer is its JSON.
"""

import json

from .. import protocol as P

# Results are ascii-escaped: a rejection may quote whatever the laptop sent. (An encoder made
# once: json.dumps with options makes a new one per call.)
_result_json = json.JSONEncoder(separators=(",", ":")).encode


def fields_text(data: dict) -> str:
    """The stored form of a record's fields (validated text, so no lone surrogates)."""
    return P.json_text(data)


def stamps_text(stamps: dict[str, str], created_hlc: str) -> str:
    """The stored form of field -> stamp (fields stamped created_hlc are left out)."""
    grouped: dict[str, list[str]] = {}
    for name, stamp in stamps.items():
        if stamp != created_hlc:
            grouped.setdefault(stamp, []).append(name)
    return P.json_text(grouped) if grouped else "{}"


def stamps_from(text: str) -> dict[str, str]:
    """field -> stamp of the fields whose stamp is not the create's (read others as
    created_hlc: `stamps.get(name, created_hlc)`)."""
    return {name: stamp for stamp, names in json.loads(text).items() for name in names}


def result_text(result: dict) -> str:
    """The stored form of an op's result (which starts with its op_id)."""
    rest = {k: v for k, v in result.items() if k != "op_id"}
    if rest.get("status") == P.APPLIED and type(rest.get("version")) is int:
        if list(rest) == ["status", "version"]:
            return str(rest["version"])
        if list(rest) == ["status", "version", "conflicts"] and rest["conflicts"] == []:
            return f"{rest['version']}[]"
    return _result_json(rest)


def result_from(op_id: str, text: str) -> dict:
    """The result as the op got it: a duplicate gets it back as it was."""
    if text.startswith("{"):
        return {"op_id": op_id, **json.loads(text)}
    if text.endswith("[]"):
        return {"op_id": op_id, "status": P.APPLIED, "version": int(text[:-2]), "conflicts": []}
    return {"op_id": op_id, "status": P.APPLIED, "version": int(text)}


def result_version(text: str) -> int:
    """The version the op made (0 if it made none: a rejected op)."""
    if text.startswith("{"):
        return json.loads(text).get("version", 0)
    return int(text.removesuffix("[]"))
