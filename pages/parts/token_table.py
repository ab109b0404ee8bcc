"""The Token scores page's sortable example table; a clicked row, or the select box below it,
picks the example shown."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from atwu.app.token_compare import example_table_columns
from pages.parts.url_state import keep, seed

AUROC_HELP = {
    "facts": "within-example AUROC of the weights: fact tokens against the template",
    "conflict": "within-example AUROC of the weights: specific facts against shared ones "
    "(empty where the example lacks one of the two)",
}

# Short headers at small widths, so the numbers fit beside the example ids in a third of the
# page; each header's help says what it is.
COLUMNS = {
    "example_id": st.column_config.TextColumn("example", width="medium"),
    "forget loss": st.column_config.NumberColumn(
        "loss",
        format="%.3f",
        width="small",
        help="forget loss: the model's answer NLL at this step (needs a full evaluation)",
    ),
    **{
        f"mean weight ({kind})": st.column_config.NumberColumn(
            f"w̄ {kind}", format="%.3f", width="small", help=f"mean weight of the {kind} tokens"
        )
        for kind in ("facts", "other", "specific", "shared")
    },
    "fact tokens": st.column_config.NumberColumn("facts", width="small", help="fact tokens"),
    "specific tokens": st.column_config.NumberColumn(
        "specific", width="small", help="specific fact tokens"
    ),
    "tokens": st.column_config.NumberColumn("tokens", width="small"),
}


# The columns that fit the table's two fifths of the page at 1400 px without a cut last column;
# the toggle under the table shows the others (token counts, specific and shared weights).
NARROW = ("example_id", "AUROC", "mean weight (facts)", "mean weight (other)", "forget loss")


def narrow_columns(table: pd.DataFrame, ground_truth: str) -> list[str]:
    """:data:`NARROW` as the table names them under ``ground_truth`` (the retain-conflict view
    calls facts and other "specific" and "shared")."""
    renamed = example_table_columns(ground_truth)
    return [c for c in (renamed.get(n, n) for n in NARROW) if c in table.columns]


def example_picker(table: pd.DataFrame, step: int, ground_truth: str = "facts") -> str:
    """Draw the table and the select box; return the picked example id."""
    ids = table["example_id"].tolist()
    seed("example", "example", valid=lambda v: v in ids, default=ids[0])
    st.markdown(f"**Examples at step {step}** ({len(ids)}; click a row, or sort by a column)")
    wide = bool(st.session_state.get("table_all_columns"))
    event = st.dataframe(
        table,
        key="example_table",
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        height=420,
        column_order=None if wide else narrow_columns(table, ground_truth),
        column_config={
            **COLUMNS,
            "AUROC": st.column_config.NumberColumn(
                "AUROC", format="%.3f", width="small", help=AUROC_HELP[ground_truth]
            ),
        },
    )
    # A row picked in the table (positions refer to `table` whatever the on-screen sort) becomes
    # the example, once: afterwards the select box below can change it again.
    st.toggle(
        "All columns",
        key="table_all_columns",
        help="Token counts and the weights of specific and shared facts too (the table then "
        "scrolls sideways)",
    )
    picked = event.selection.rows if event is not None else []
    if picked and picked[0] < len(ids) and ids[picked[0]] != st.session_state.get("_table_pick"):
        st.session_state["_table_pick"] = st.session_state["example"] = ids[picked[0]]
    example = st.selectbox("Example", ids, key="example")
    keep("example", "example")
    return str(example)
