"""Claims shared by every study: the statistics (:mod:`.stats`), the declaration of a claim
(:mod:`.declare`) and the rendering of a claims table (:mod:`.render`)."""
