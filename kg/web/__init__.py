"""The web explorer served by ``kg serve``: search, concept and paper pages, overview, SPARQL page."""
