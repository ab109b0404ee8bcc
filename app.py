"""The ATWU app: a router over the pages in pages/, with the shared sidebar.

    ./run-app.sh          # http://127.0.0.1:8501 (localhost only)

Pages only read run directories, call atwu and draw; training runs as `python -m atwu run`
subprocesses started from the Run page (atwu/app/jobs.py).
"""

from __future__ import annotations

import traceback

import streamlit as st

from pages import common  # `streamlit run app.py` puts this folder on the path; atwu is installed
from pages.parts.link_notes import link_notes, page_link_box, unknown_link_params
from pages.parts.sidebar import sidebar

st.set_page_config(
    page_title="ATWU: token-level unlearning", page_icon=":material/blur_on:", layout="wide"
)

# The default page is served at "/". Its url_path must still differ from its file's stem:
# otherwise Streamlit's pages/ folder convention runs pages/home_page.py directly, without this
# router and its sidebar. Nothing links to "/home".
pages = [
    st.Page(spec.file, title=spec.title, icon=spec.icon, url_path=spec.key, default=i == 0)
    for i, spec in enumerate(common.PAGE_TABLE)
]
page = st.navigation(pages)
unknown_link_params()
notes = st.container()  # what a link asked for that the page could not show, drawn last
sidebar()
try:
    page.run()
except Exception as exc:
    st.error(
        f"This page hit an unexpected error: {type(exc).__name__}: {exc}. The run "
        "directories are untouched; reload the page, or pick another run. If it persists, "
        "the details below help to report it."
    )
    with st.expander("Details"):
        st.code("".join(traceback.format_exception(exc)), language="text")
finally:
    link_notes(notes)
    page_link_box(page.url_path)
