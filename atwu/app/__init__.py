"""The app's view models: Streamlit-free functions from run directories to what pages draw."""
