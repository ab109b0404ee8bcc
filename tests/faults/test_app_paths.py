"""What a shared link or an upload can make the app touch: a ``?dir=`` outside $ATWU_HOME (also
through ``..`` or a symbolic link) is shown as refused and the default directory is used; an
uploaded file's name never becomes a path, an upload over the size limit or of the wrong kind
is refused in one line before a benchmark is built from it."""

from __future__ import annotations

import pytest

from atwu.app.limits import MAX_UPLOAD_BYTES, check_upload
from atwu.app.safe_dirs import dir_from_link
from atwu.app.uploads import benchmark_name, stage_upload
from atwu.data.format import DataFormatError
from atwu.data.pairs_file import load_pairs
from atwu.errors import InputError


@pytest.fixture
def home(tmp_path):
    (tmp_path / "home" / "runs").mkdir(parents=True)
    return tmp_path / "home"


@pytest.mark.parametrize("asked", ["/etc", "{home}/../elsewhere", "{home}/runs/../../elsewhere"])
def test_a_link_asking_for_a_directory_outside_atwu_home_shows_the_default(home, asked):
    (home.parent / "elsewhere").mkdir(exist_ok=True)
    shown, why = dir_from_link(asked.format(home=home), opened=[], home=home, default=home / "runs")
    assert shown == home / "runs"
    assert why is not None and "outside $ATWU_HOME" in why


def test_a_symbolic_link_inside_atwu_home_does_not_lead_out(home):
    (home.parent / "secret").mkdir()
    (home / "runs" / "door").symlink_to(home.parent / "secret")
    shown, why = dir_from_link(
        str(home / "runs" / "door"), opened=[], home=home, default=home / "runs"
    )
    assert shown == home / "runs" and why is not None


def test_a_link_to_a_directory_under_atwu_home_or_opened_by_the_user_is_followed(home, tmp_path):
    assert dir_from_link(str(home / "runs"), opened=[], home=home, default="x") == (
        home / "runs",
        None,
    )
    mine = tmp_path / "mine"
    assert dir_from_link(str(mine), opened=[str(mine)], home=home, default="x") == (mine, None)


@pytest.mark.parametrize(
    "filename", ["../../../etc/cron.d/x.jsonl", "..\\..\\x.jsonl", "/abs.jsonl"]
)
def test_an_uploaded_file_named_with_dot_dot_is_stored_inside_the_uploads_folder(home, filename):
    name = benchmark_name("", filename)
    staged = stage_upload(b"{}\n", b"{}\n", name=name, home=home, benchmarks=home / "benchmarks")
    for path in (staged.forget, staged.retain, staged.target):
        assert path.resolve().is_relative_to(home.resolve())
    assert staged.forget.name == "forget.jsonl"  # the user's file name reaches no path


def test_an_upload_over_the_size_limit_is_refused_in_one_line(home):
    with pytest.raises(InputError) as caught:
        check_upload(b"x" * (MAX_UPLOAD_BYTES + 1), "The forget file")
    message = str(caught.value)
    assert "The forget file" in message and "the limit is 21 MB" in message
    assert "\n" not in message
    with pytest.raises(InputError):
        stage_upload(
            b"x" * (MAX_UPLOAD_BYTES + 1),
            b"{}",
            name="big",
            home=home,
            benchmarks=home / "benchmarks",
        )
    assert not (home / "uploads").exists()  # nothing staged


def test_an_upload_that_is_not_question_answer_lines_is_refused_with_its_line(home):
    staged = stage_upload(
        b"\x89PNG\r\n\x1a\n", b"{}\n", name="img", home=home, benchmarks=home / "benchmarks"
    )
    with pytest.raises(DataFormatError, match=r"forget\.jsonl:1: .*not valid UTF-8"):
        load_pairs(staged.forget)  # what the prepare job reads first
