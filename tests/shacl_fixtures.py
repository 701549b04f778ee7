"""One failing fixture per SHACL shape (test_validate.py checks each is caught by its shape,
test_shacl_sparql.py that both validators agree on it): a few Turtle triples added to the real
data, written with the prefixes below, and ``owners``: the shapes a named fixture belongs to."""

from __future__ import annotations

import rdflib

SHAPES = "https://w3id.org/isecg/shapes#"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
PREFIXES = """
PREFIX agency: <https://w3id.org/isecg/id/agency/>
PREFIX claim: <https://w3id.org/isecg/id/claim/>
PREFIX contribution: <https://w3id.org/isecg/id/contribution/>
PREFIX country: <https://w3id.org/isecg/id/country/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX destination: <https://w3id.org/isecg/id/destination/>
PREFIX dispute: <https://w3id.org/isecg/id/dispute/>
PREFIX doc: <https://w3id.org/isecg/id/document/>
PREFIX event: <https://w3id.org/isecg/id/event/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX group: <https://w3id.org/isecg/id/group/>
PREFIX instant: <https://w3id.org/isecg/id/instant/>
PREFIX isecg: <https://w3id.org/isecg/ontology#>
PREFIX link: <https://w3id.org/isecg/id/link/>
PREFIX meeting: <https://w3id.org/isecg/id/meeting/>
PREFIX membership: <https://w3id.org/isecg/id/membership/>
PREFIX name: <https://w3id.org/isecg/id/name/>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX participation: <https://w3id.org/isecg/id/participation/>
PREFIX pathway: <https://w3id.org/isecg/id/pathway/>
PREFIX period: <https://w3id.org/isecg/id/period/>
PREFIX person: <https://w3id.org/isecg/id/person/>
PREFIX place: <https://w3id.org/isecg/id/place/>
PREFIX post: <https://w3id.org/isecg/id/post/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX schema: <https://schema.org/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX technology: <https://w3id.org/isecg/id/technology/>
PREFIX tenure: <https://w3id.org/isecg/id/tenure/>
PREFIX theme: <https://w3id.org/isecg/id/theme/>
PREFIX time: <http://www.w3.org/2006/time#>
PREFIX unit: <https://w3id.org/isecg/id/unit/>
PREFIX wd: <http://www.wikidata.org/entity/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""
SRC = "dcterms:source doc:exploring-together"
LINKED = "doc:ger isecg:qualifiedContribution contribution:x ."
# A well-formed start claim; each DateClaim fixture below breaks one part of it.
CLAIM = ("claim:x a isecg:MembershipStartClaim ; rdfs:label \"x\"@en ; "
         "{source} {certainty} {excerpt} {when} .")
CLAIM_PARTS = {"source": "dcterms:source doc:exploring-together ;",
               "certainty": "isecg:certainty isecg:Stated ;",
               "excerpt": 'isecg:excerpt "x"@en ;', "when": "isecg:claimedTime instant:2007-11"}


def claim(**broken: str) -> str:
    return CLAIM.format(**{**CLAIM_PARTS, **broken})


# Well-formed claim, tenure and participation records; the fixtures below break one part.
GENERIC_CLAIM = ('claim:x a isecg:Claim ; rdfs:label "x"@en ; isecg:claimSubject group:isecg ;'
                 ' isecg:certainty isecg:Stated ; {source} {excerpt} {content} .')
GENERIC_PARTS = {"source": "dcterms:source doc:isecg-faq ;", "excerpt": 'isecg:excerpt "x"@en ;',
                 "content": "isecg:claimedCount 3"}
TENURE = ('tenure:x a isecg:Tenure ; rdfs:label "x"@en ; org:member agency:nasa ;'
          ' org:organization group:isecg ; org:role isecg:ChairRole ; isecg:certainty isecg:Stated ;'
          ' {source} {excerpt} .')
TENURE_PARTS = {"source": "dcterms:source doc:isecg-about ;", "excerpt": 'isecg:excerpt "x"@en'}
PARTICIPATION = ('participation:x a isecg:Participation ; rdfs:label "x"@en ; prov:agent agency:nasa ;'
                 ' {source} {certainty} . {link}')
PARTICIPATION_PARTS = {"source": "dcterms:source doc:isecg-p302 ;",
                       "certainty": "isecg:certainty isecg:Stated",
                       "link": "meeting:isecg-4-noordwijk isecg:qualifiedParticipation participation:x ."}
DISPUTE = ('dispute:x a isecg:Dispute ; rdfs:label "x"@en ; dcterms:source doc:isecg-faq ;'
           ' isecg:claimSubject group:isecg ; {reason} {sides} .')


def generic_claim(**broken: str) -> str:
    return GENERIC_CLAIM.format(**{**GENERIC_PARTS, **broken})


def tenure(**broken: str) -> str:
    return TENURE.format(**{**TENURE_PARTS, **broken})


def participation(**broken: str) -> str:
    return PARTICIPATION.format(**{**PARTICIPATION_PARTS, **broken})


FIXTURES = {
    "CitedSourceShape": "agency:nasa dcterms:source doc:unaddressed . doc:unaddressed a isecg:Report .",
    "DateClaim-certainty": claim(certainty="isecg:certainty isecg:Rumoured ;"),
    "DateClaim-claimedTime": claim(when='isecg:claimedTime "2007"'),
    "DateClaim-excerpt": claim(excerpt=""),
    # two bounds where one is allowed (a wrong datatype would also make DateClaim-oneForm's
    # comparison an error, which rdflib and Oxigraph treat differently)
    "DateClaim-notAfter": claim(when='isecg:notBefore "2007-01-01"^^xsd:date ;'
                                     ' isecg:notAfter "2007-12-31"^^xsd:date , "2007-11-30"^^xsd:date'),
    "DateClaim-notBefore": claim(when='isecg:notBefore "2007-01-01"^^xsd:date , "2007-02-01"^^xsd:date ;'
                                      ' isecg:notAfter "2007-12-31"^^xsd:date'),
    "DateClaim-oneForm": claim(when='isecg:notBefore "2008-01-01"^^xsd:date ; isecg:notAfter "2007-12-31"^^xsd:date'),
    "DateClaim-source": claim(source=""),
    "Existence-authorship": ("contribution:x a isecg:Contribution ; prov:agent agency:uksa ; prov:hadRole isecg:AuthorRole ;"
                             f" {SRC} . doc:ges-framework isecg:qualifiedAuthorship contribution:x ."),
    "Existence-membership": "membership:uksa isecg:startClaim claim:bnsc-start-formation .",
    "NameStatement-asserted": ('name:x a isecg:NameStatement ; rdfs:label "x"@en ; rdf:subject agency:nasa ;'
                               f' rdf:predicate isecg:acronym ; rdf:object "NASDA" ; {SRC} .'),
    "NameStatement-source": ('name:x a isecg:NameStatement ; rdfs:label "x"@en ; rdf:subject agency:nasa ;'
                             ' rdf:predicate isecg:acronym ; rdf:object "NASA" .'),
    "NamedAgency-sourced": 'agency:nasa isecg:nativeName "Made up"@fr .',
    "TitledDocument-titleSource": 'doc:ger-2 dcterms:title "Made up"@en .',
    "Contribution-agent": f"contribution:x a isecg:Contribution ; prov:hadRole isecg:AuthorRole ; {SRC} . {LINKED}",
    "Contribution-hadRole": f"contribution:x a isecg:Contribution ; prov:agent agency:nasa ; {SRC} . {LINKED}",
    "Contribution-owner": f"contribution:x a isecg:Contribution ; prov:agent agency:nasa ; prov:hadRole isecg:AuthorRole ; {SRC} .",
    "Contribution-source": f"contribution:x a isecg:Contribution ; prov:agent agency:nasa ; prov:hadRole isecg:AuthorRole . {LINKED}",
    "CoordinationGroup-acronym": 'group:isecg isecg:acronym "XX"@en .',
    "CoordinationGroup-homepage": 'group:isecg foaf:homepage "www.example.org" .',
    "CoordinationGroup-label": 'group:isecg rdfs:label "Groupe"@fr .',
    "CoordinationGroup-source": 'group:g2 a isecg:CoordinationGroup ; rdfs:label "G"@en ; isecg:acronym "G"@en .',
    "CoordinationGroup-workingGroupCount": 'group:isecg isecg:workingGroupCount "seven" .',
    "DatedSource-issued": "doc:ger isecg:dateIsApproximate true .",
    "Document-authorCount": 'doc:ger isecg:authorCount "12" .',
    "Document-dateIsApproximate": 'doc:ges-framework isecg:dateIsApproximate "yes" .',
    "Document-issued": 'doc:ger dcterms:issued "May 2007" .',
    "Document-label": 'doc:ger rdfs:label "Feuille de route"@fr .',
    "Document-source": 'doc:x a isecg:Report ; dcterms:title "X"@en ; rdfs:label "X"@en .',
    "Document-title": 'doc:ger dcterms:title "A second title"@en .',
    "Event-hasTime": "event:isecg-formation time:hasTime instant:2012 .",
    "Event-label": f"event:x a isecg:Event ; {SRC} .",
    "Event-participantCount": "event:isecg-extension isecg:participantCount -1 .",
    "Event-source": 'event:x a isecg:Event ; rdfs:label "X"@en .',
    "Instant-inXSDDate": 'instant:x a time:Instant ; time:inXSDDate "2007-05-31" .',
    "Instant-inXSDgYear": "instant:x a time:Instant ; time:inXSDgYear 2008 .",
    "Instant-inXSDgYearMonth": 'instant:x a time:Instant ; time:inXSDgYearMonth "2007-11" .',
    "InstantShape": 'instant:x a time:Instant ; rdfs:label "no position" .',
    "Interval-hasBeginning": "period:x a time:Interval ; time:hasBeginning instant:2006 , instant:2008 .",
    "Interval-hasEnd": 'period:x a time:Interval ; time:hasEnd "2010" .',
    "Interval-order": "period:x a time:Interval ; time:hasBeginning instant:2012 ; time:hasEnd instant:2008 .",
    "LinkRecord-created": f'link:x a isecg:LinkRecord ; isecg:linkSubject agency:aeb ; isecg:linkTarget wd:Q1 ; isecg:evidence "e"@en ; {SRC} .',
    "LinkRecord-evidence": f'link:x a isecg:LinkRecord ; isecg:linkSubject agency:aeb ; isecg:linkTarget wd:Q1 ; dcterms:created "2026-01-01"^^xsd:date ; {SRC} .',
    "LinkRecord-linkSubject": f'link:x a isecg:LinkRecord ; isecg:linkTarget wd:Q1 ; isecg:evidence "e"@en ; dcterms:created "2026-01-01"^^xsd:date ; {SRC} .',
    "LinkRecord-linkTarget": f'link:x a isecg:LinkRecord ; isecg:linkSubject agency:aeb ; isecg:linkTarget <https://www.wikidata.org/wiki/Q1> ; isecg:evidence "e"@en ; dcterms:created "2026-01-01"^^xsd:date ; {SRC} .',
    "LinkRecord-source": 'link:x a isecg:LinkRecord ; isecg:linkSubject agency:aeb ; isecg:linkTarget wd:Q1 ; isecg:evidence "e"@en ; dcterms:created "2026-01-01"^^xsd:date .',
    "Membership-member": f"membership:x a isecg:Membership ; org:organization group:isecg ; {SRC} .",
    "Membership-memberDuring": 'membership:nasa org:memberDuring "2007" .',
    "Membership-organization": f"membership:x a isecg:Membership ; org:member agency:nasa ; {SRC} .",
    "Membership-source": "membership:x a isecg:Membership ; org:member agency:nasa ; org:organization group:isecg .",
    "NamedThing-label": f"destination:x a isecg:Destination ; {SRC} .",
    "NamedThing-source": 'destination:x a isecg:Destination ; rdfs:label "X"@en .',
    "Place-altLabel": 'country:italy skos:altLabel "Italia" .',
    "Place-label": 'country:italy rdfs:label "Italia"@it .',
    "Place-source": 'country:x a isecg:Country ; rdfs:label "X"@en .',
    "RoadmapEdition-editionNumber": "doc:ger-3 isecg:editionNumber 0 .",
    "RoadmapEdition-editionOf": f'doc:x a isecg:RoadmapEdition ; dcterms:title "X"@en ; rdfs:label "X"@en ; {SRC} ; isecg:editionNumber 2 .',
    "RoleMatchesLink-owner": "doc:ger-4 isecg:qualifiedAuthorship contribution:ger-4-isecg-publisher .",
    "Scenario-horizon": 'pathway:moon-next isecg:horizon "25 years" .',
    "SpaceAgency-acronym": 'agency:nasa isecg:acronym "N.A.S.A."@en .',
    "SpaceAgency-country": "agency:nasa isecg:country country:france .",
    "SpaceAgency-label": 'agency:nasa rdfs:label "NASA" .',
    "SpaceAgency-nativeName": 'agency:asi isecg:nativeName "Agenzia" .',
    "SpaceAgency-region": "agency:aeb isecg:region country:france .",
    "SpaceAgency-source": 'agency:x a isecg:SpaceAgency ; rdfs:label "X"@en ; isecg:acronym "X"@en ; isecg:country country:france .',
    "SpaceAgencyShape": "agency:esa isecg:country country:france .",
    "Supplement-supplementTo": f'doc:x a isecg:Supplement ; dcterms:title "X"@en ; rdfs:label "X"@en ; {SRC} .',
    "Theme-inScheme": f'theme:x a isecg:ExplorationTheme ; skos:prefLabel "X"@en ; {SRC} .',
    "Theme-notation": 'theme:economic-expansion skos:notation "33" .',
    "Theme-prefLabel": f"theme:x a isecg:ExplorationTheme ; skos:inScheme theme:ges-themes ; {SRC} .",
    "Theme-source": 'theme:x a isecg:ExplorationTheme ; skos:prefLabel "X"@en ; skos:inScheme theme:ges-themes .',
    "IdentityLink-exactMatch": "agency:nasa skos:exactMatch wd:Q23548 .",
    "WikidataLink-sameAs": "agency:csiro schema:sameAs <https://www.wikidata.org/wiki/Q123> .",
    "WikidataLink-sameAs-2": "agency:nasa schema:sameAs wd:Q190903 .",
    # organisation, meetings, claims and disputes (shapes/organisation.ttl)
    "ClaimShape": generic_claim(content=""),
    "Claim-asOf": 'claim:members-faq isecg:asOf "2013" .',
    "Claim-claimedCount": 'claim:members-faq isecg:claimedCount "fourteen" .',
    "Claim-claimedStatus": "claim:cnsa-2013-member isecg:claimedStatus isecg:Stated .",
    "Claim-claimedTime": "claim:isecg-formation-day isecg:claimedTime instant:2007-11 .",
    "Claim-excerpt": generic_claim(excerpt=""),
    "Claim-label": 'claim:members-faq rdfs:label "quatorze membres"@fr .',
    "Claim-source": generic_claim(source=""),
    "Claim-subject": "claim:members-faq isecg:claimSubject agency:nasa .",
    "Dispute-adoptedSide": "dispute:ger-1-authors isecg:adoptedSide claim:ger-1-authors-spacesafety .",
    "Dispute-reason": DISPUTE.format(reason="", sides="isecg:side claim:members-faq , claim:members-space51"),
    "Dispute-side": DISPUTE.format(reason='skos:scopeNote "x"@en ;', sides="isecg:side claim:members-faq"),
    "Dispute-adoptedIsASide": "dispute:yokohama-attendance isecg:adoptedSide claim:members-faq .",
    "Dispute-sidesShareTheSubject": "dispute:members-in-2024 isecg:side claim:yokohama-nine .",
    "Certainty-value": "contribution:ger-2-esa-author isecg:certainty isecg:Rumoured .",
    "Sure-certainty": participation(certainty=""),
    "Tenure-excerpt": tenure(excerpt=""),
    "Tenure-heldOn": 'tenure:isecg-chair-nasa-2017 isecg:heldOn "2017" .',
    "Tenure-member": "tenure:isecg-chair-nasa-2017 org:member agency:esa .",
    "Tenure-memberDuring": "tenure:isecg-chair-esa-2014 org:memberDuring period:from-2009-05-20 .",
    "Tenure-organization": "tenure:isecg-chair-nasa-2017 org:organization agency:nasa .",
    "Tenure-post": "tenure:isecg-chair-nasa-2017 isecg:post group:isecg .",
    "Tenure-role": "tenure:isecg-chair-nasa-2017 org:role isecg:AuthorRole .",
    "Tenure-source": tenure(source=""),
    "Tenure-heldWithin": "tenure:isecg-chair-jaxa-2009 isecg:heldOn instant:2011-08-30 .",
    "Post-postIn": f'post:x a org:Post ; rdfs:label "x"@en ; {SRC} ; org:role isecg:ChairRole .',
    "Post-role": "post:isecg-chair org:role isecg:LeadRole .",
    "Meeting-absentee": 'meeting:isecg-4-noordwijk isecg:absentee "CNSA" .',
    "Meeting-attendanceAsStated": 'meeting:isef-2014 isecg:attendanceAsStated "30" .',
    "Meeting-decision": 'meeting:kyoto-2007 isecg:decision "to coordinate" .',
    "Meeting-hasTime": f'meeting:x a isecg:Meeting ; rdfs:label "x"@en ; {SRC} .',
    "Meeting-heldIn": "meeting:kyoto-2011 isecg:heldIn place:berlin .",
    "Meeting-host": "meeting:songdo-2023 isecg:host place:songdo .",
    "Meeting-meetingNumber": "meeting:isecg-4-noordwijk isecg:meetingNumber 0 .",
    "Meeting-online": 'meeting:virtual-2021 isecg:online "yes" .',
    "Meeting-venue": 'meeting:darmstadt-2015 isecg:venue "ESOC, Darmstadt" .',
    "Meeting-absentNotPresent": "meeting:isecg-4-noordwijk isecg:absentee agency:nasa .",
    "Participation-agent": "participation:isecg-4-noordwijk-nasa prov:agent person:rolf-densing .",
    "Participation-owner": participation(link=""),
    "Participation-source": participation(source=""),
    "Unit-establishedIn": 'unit:iawg isecg:establishedIn "2008" .',
    "Unit-hostedBy": "unit:secretariat isecg:hostedBy place:noordwijk .",
    "Unit-listedIn": "unit:erwg isecg:listedIn doc:ger-2 .",
    "Unit-unitOf": f'unit:x a isecg:WorkingGroup ; rdfs:label "x"@en ; {SRC} .',
    "AnnualReport-reportNumber": "doc:isecg-annual-report-2010 isecg:reportNumber 0 .",
    "AnnualReport-reportingYear": 'doc:isecg-annual-report-2010 isecg:reportingYear "2011"^^xsd:gYear .',
    "TechnologyNeed-listedIn": f'technology:x a isecg:TechnologyNeed ; rdfs:label "x"@en ; {SRC} ; skos:notation "X" .',
    "TechnologyNeed-notation": 'technology:ger-003 skos:notation "GER-3" .',
}


def owners(shapes: rdflib.Graph, name: str) -> list[str]:
    """The shape NAME and the node shapes that run it: pySHACL then checks only those (the whole
    shapes graph takes ~8 s a fixture; the full graph is checked by test_committed_data_conforms).
    pySHACL wants a property shape listed beside its node shape, from which it takes the targets."""
    shape = rdflib.URIRef(SHAPES + name)
    found = {s for p in (SH.property, SH.sparql) for s in shapes.subjects(p, shape)}
    targets = SH.targetClass | SH.targetObjectsOf | SH.targetNode | SH.targetSubjectsOf
    assert found or (shape, targets, None) in shapes, f"no node shape runs {name}"
    return sorted({shape, *found})
