"""Applying a trained backbone to new images and videos: ``fercl embed`` (features per face) and ``fercl
predict`` (a saved probe head applied to them). Faces are found and aligned exactly as preprocessing
does (:mod:`fercl_cli.preprocess.analyse`), features are extracted as evaluation does
(:mod:`fercl_cli.evaluate.features`)."""
