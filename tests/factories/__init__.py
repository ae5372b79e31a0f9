"""Builders of the synthetic stores and data the tests share (one function per kind of thing built).

- :mod:`tests.factories.clips`: seeded clips (random crops, failures) written resumably to a face store,
  and ``python -m tests.factories.clips`` as a writer process for the crash tests.
- :mod:`tests.factories.stores`: a tiny training store, stores of real aligned portraits, a store without
  landmarks and an empty store.
- :mod:`tests.factories.portraits`: the public-domain portraits shipped with scikit-image and matplotlib,
  and their aligned crops.
- :mod:`tests.factories.media`: pictures, broken files and moving-face videos for embed/predict and
  preprocessing.
- :mod:`tests.factories.corpus`: the options of the generated sample corpora.
"""
