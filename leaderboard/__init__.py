"""Streamlit leaderboard; installed as tfbench.leaderboard."""
