"""ATWU: Alternating Token-Weighted Unlearning, with its baselines, benchmarks and metrics.

The core package never imports Streamlit; the app in ``app.py``/``pages/`` reads what it writes.
"""

__version__ = "0.1.0"
