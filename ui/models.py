"""The Qt models behind Tandem's short lists and tables: rows are dicts, replaced whole when
the DB worker sends fresh ones (Picard's log view style). Each screen's model says only how a
row reads."""

from .qt import QAbstractListModel, QAbstractTableModel, QModelIndex, Qt


class _Rows:
    """Holding the rows; shared by the list and table models below."""

    def __init__(self):
        super().__init__()
        self.rows: list[dict] = []
        self._shown: dict[int, tuple] = {}  # row number -> its cells as shown, made once

    def set_rows(self, rows: list[dict]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self._shown = {}
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.rows)

    def row_at(self, index) -> dict | None:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        return self.rows[index.row()]


class RowsListModel(_Rows, QAbstractListModel):
    """One line of text per row; RowRole gives the row itself."""

    RowRole = Qt.ItemDataRole.UserRole + 1

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        row = self.row_at(index)
        if row is None:
            return None
        if role == self.RowRole:
            return row
        if role == Qt.ItemDataRole.DisplayRole:
            return _shown(self.display, row, lambda text: text)
        return None

    def display(self, row: dict) -> str:
        raise NotImplementedError


class RowsTableModel(_Rows, QAbstractTableModel):
    """A table with one cell per COLUMNS entry; IdRole gives the row's record id."""

    COLUMNS: tuple[str, ...] = ()
    IdRole = Qt.ItemDataRole.UserRole + 1

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self.COLUMNS):
            return self.COLUMNS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        # Views ask for a dozen roles per cell, again on every restyle: answer the ones not
        # kept here first, and format a row's cells once.
        if role != Qt.ItemDataRole.DisplayRole and role != self.IdRole:
            return None
        row = self.row_at(index)
        if row is None:
            return None
        if role == self.IdRole:
            return row["id"]
        n = index.row()
        if n not in self._shown:
            self._shown[n] = _shown(self.cells, row, lambda text: (
                text, *[""] * (len(self.COLUMNS) - 1)))
        return self._shown[n][index.column()]

    def cells(self, row: dict) -> tuple:
        raise NotImplementedError


def _shown(make, row: dict, unshowable):
    """A row as its screen shows it (`make`), or `unshowable` of a line that says it cannot
    be: a record written elsewhere in a shape this screen does not expect (a list item that
    is not a code, say) must not raise here, where Qt asks for it while painting, and
    PySide turns an exception from a model into a crash of the whole app."""
    try:
        return make(row)
    except Exception as e:  # noqa: BLE001 — any, as said
        return unshowable(f"(this entry cannot be shown here: {type(e).__name__})")
