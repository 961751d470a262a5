"""Build step of the package: templates, static files and compiled catalogues go into the wheel.

setup.cfg names `BuildPy` as the build_py command, so `pip install /path/to/kopir`, `pip wheel`
and `python -m build` all run it. The wheel then holds portal/templates/, portal/static/ and
portal/translations/*/LC_MESSAGES/messages.mo, compiled here from the .po files (git keeps no .mo
files), so an installed portal needs nothing from the checkout. An editable install
(`pip install -e .`, what `make run` does) skips it: create_app() finds templates/ and static/
beside portal/, and `make translations` compiles the catalogues in place.
"""

from __future__ import annotations

from pathlib import Path

from setuptools.command.build_py import build_py
from setuptools.errors import SetupError

PACKAGE = "portal"
# Folders at the top of the checkout that the package carries under the same name.
BUNDLED = ("templates", "static")
# static/src/ is what the stylesheet is built from (Sass, npm's lock file); the portal never
# serves it (portal/assets.py), so the wheel leaves it out.
LEFT_OUT = ("static/src",)
CATALOGUES = Path(PACKAGE) / "translations"
DOMAIN = "messages"


def _bundled_files() -> list[Path]:
    """Return the files of the bundled folders, relative to the checkout, in a stable order."""
    files = []
    for folder in BUNDLED:
        for path in sorted(Path(folder).rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            if any(path.is_relative_to(skip) for skip in LEFT_OUT):
                continue
            files.append(path)
    return files


def _catalogues() -> list[Path]:
    """Return every .po file of the portal's message domain."""
    return sorted(CATALOGUES.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


class BuildPy(build_py):
    """setuptools' build_py, plus templates/ and static/ and the compiled catalogues."""

    def run(self) -> None:
        """Build the Python files and package data, then add what the portal reads at run time."""
        super().run()
        if self.editable_mode:
            return
        for source in _bundled_files():
            target = Path(self.build_lib) / PACKAGE / source
            self.mkpath(str(target.parent))
            self.copy_file(str(source), str(target))
        catalogues = _catalogues()
        if not catalogues:
            raise SetupError(f"no {DOMAIN}.po catalogues under {CATALOGUES}/")
        for po in catalogues:
            self._compile(po, Path(self.build_lib) / po.with_suffix(".mo"))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        """Name the added files too, so `install --record` lists everything installed."""
        outputs = super().get_outputs(include_bytecode)
        if self.editable_mode:
            return outputs
        build = Path(self.build_lib)
        outputs += [str(build / PACKAGE / source) for source in _bundled_files()]
        outputs += [str(build / po.with_suffix(".mo")) for po in _catalogues()]
        return outputs

    def _compile(self, po: Path, mo: Path) -> None:
        """Compile one catalogue like `pybabel compile`, refusing one it would skip or warn of."""
        # Imported here: only a build needs Babel (pyproject.toml's build requirements).
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        locale = po.parent.parent.name
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=locale, domain=DOMAIN)
        # pybabel compile leaves out a catalogue marked fuzzy and only logs broken entries: a
        # package would then speak English, or fail on a placeholder, where it should not.
        if catalog.fuzzy:
            raise SetupError(f"{po} is marked fuzzy as a whole; review it before building")
        problems = [
            f"{po}:{message.lineno}: {error}"
            for message, errors in catalog.check()
            for error in errors
        ]
        if problems:
            raise SetupError("broken translations:\n" + "\n".join(problems))
        self.announce(f"compiling {po} to {mo}", level=2)
        if self.dry_run:
            return
        mo.parent.mkdir(parents=True, exist_ok=True)
        with mo.open("wb") as handle:
            write_mo(handle, catalog)
