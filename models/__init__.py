"""Bundled model files (the MediaPipe pose landmarker .task bundle); see NOTICE.md."""
