"""Sites govaudit serves itself on loopback: the bundled demo county portal (``site``) and the small
threaded HTTP servers that serve it and the test suite's fixture sites (``servers``)."""
