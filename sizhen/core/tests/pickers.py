"""Reading a rendered picker (``sizhen.core.widgets``) in tests: its groups and options in page
order and the search fields it gives static/js/picker.js."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser

#: (group label, or None outside any group; [(value, label, selected)]).
Rows = list[tuple[str | None, list[tuple[str, str, bool]]]]


@dataclass
class Picker:
    attrs: dict[str, str]
    rows: Rows = field(default_factory=list)

    @property
    def search(self) -> dict[str, list[str]]:
        """Code and pinyin initials by option value."""
        loaded: dict[str, list[str]] = json.loads(self.attrs.get("data-picker-search", "{}"))
        return loaded

    @property
    def groups(self) -> list[str]:
        return [group for group, _ in self.rows if group is not None]


class _PickerReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.picker: Picker | None = None
        self._group: str | None = None
        self._option: tuple[str, bool] | None = None
        self._label = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "select" and self.picker is None:
            self.picker = Picker(attrs=attr)
        elif tag == "optgroup" and self.picker is not None:
            self._group = attr["label"]
            self.picker.rows.append((self._group, []))
        elif tag == "option" and self.picker is not None:
            self._option = (attr["value"], "selected" in attr)
            self._label = ""

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._label += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "optgroup":
            self._group = None
        elif tag == "option" and self._option is not None and self.picker is not None:
            value, selected = self._option
            if self._group is None:
                self.picker.rows.append((None, []))
            self.picker.rows[-1][1].append((value, self._label, selected))
            self._option = None


def read_picker(html: str) -> Picker:
    """The first <select> of ``html``: an option outside groups is a row of its own."""
    reader = _PickerReader()
    reader.feed(html)
    assert reader.picker is not None, "no <select> in the HTML"
    return reader.picker
