"""Scripted behaviour of the fake chat model for GraphRAG and RAPTOR tests.

``GraphResponder`` answers each kind of prompt the graph job sends: extraction (entities it knows,
found in the text), follow-up, summary, entity resolution and community report. It rotates the
answer format (plain, fenced, reasoning block first, prose around it) so every parser path runs.
"""

import json
import re
from dataclasses import dataclass, field

from tests.fakes.chat_server import Reply

TEXT_MARKER = "Text:\n"


@dataclass
class GraphResponder:
    # name -> (type, description prefix)
    known: dict
    same_names: set = field(default_factory=set)
    calls: int = 0
    extraction_texts: list = field(default_factory=list)

    def wrap(self, payload: dict) -> str:
        self.calls += 1
        text = json.dumps(payload)
        form = self.calls % 4
        if form == 1:
            return f"```json\n{text}\n```"
        if form == 2:
            return f"<think>Let me list what the text says.</think>\n{text}"
        if form == 3:
            return f"Here is the JSON you asked for:\n{text}\nDone."
        return text

    def __call__(self, body: dict) -> Reply:
        prompt = body["messages"][-1]["content"]
        if "answer missed" in prompt:
            return Reply(content=self.wrap({"entities": [], "relations": []}))
        if TEXT_MARKER in prompt:
            return Reply(content=self.wrap(self.extract(prompt.split(TEXT_MARKER, 1)[1])))
        if "The notes below describe" in prompt:
            subject = re.search(r"describe (.+?)\. They come", prompt).group(1)
            return Reply(content=self.wrap({"description": f"Summary of {subject}."}))
        if "refer to the same entity" in prompt:
            return Reply(content=self.wrap({"same": self.same_lines(prompt)}))
        if "form one community" in prompt:
            first = re.search(r"^- (.+?) \(", prompt.split("Entities (name, type, description):\n", 1)[1], re.M).group(1)
            report = {
                "title": f"Community around {first}",
                "summary": f"{first} and its neighbours.",
                "rating": 7,
                "rating_explanation": "Central to the documents.",
                "findings": [{"summary": f"{first} matters", "explanation": "It links the others."}],
            }
            return Reply(content=self.wrap(report))
        return Reply(content="I do not understand the request.")

    def extract(self, text: str) -> dict:
        self.extraction_texts.append(text)
        entities, found = [], []
        for name, (entity_type, note) in self.known.items():
            if re.search(rf"\b{re.escape(name)}\b", text):
                sentence = next(s for s in re.split(r"(?<=\.)\s+", text) if name in s)
                entities.append({"name": name, "type": entity_type, "description": f"{note} {sentence}".strip()})
                found.append(name)
        relations = []
        for sentence in re.split(r"(?<=\.)\s+", text):
            present = [name for name in found if name in sentence]
            for index, source in enumerate(present):
                for target in present[index + 1 :]:
                    relations.append(
                        {"source": source, "target": target, "description": f"{source} and {target}: {sentence}",
                         "keywords": ["co-occurrence"], "weight": 2}
                    )
        return {"entities": entities, "relations": relations}

    def same_lines(self, prompt: str) -> list[int]:
        numbers = []
        for line in prompt.splitlines():
            match = re.match(r"(\d+)\. \[", line)
            if match and all(f'"{name}"' in line for name in self.same_names):
                numbers.append(int(match.group(1)))
        return numbers


CAPITALISED = re.compile(r"\b([A-Z][a-zà-ÿ]+(?: [A-Z][a-zà-ÿ]+)*)\b")


def generic_extraction(body: dict) -> Reply:
    """Answer extraction prompts about any text: capitalised word runs become entities."""
    prompt = body["messages"][-1]["content"]
    if TEXT_MARKER not in prompt:
        return Reply(content=json.dumps({"description": "merged", "same": []}))
    text = prompt.split(TEXT_MARKER, 1)[1]
    names = list(dict.fromkeys(CAPITALISED.findall(text)))[:12]
    entities = [{"name": name, "type": "person" if " " in name else "category", "description": f"{name} is named in the text."} for name in names]
    relations = [
        {"source": first, "target": second, "description": f"{first} appears near {second}.", "keywords": ["nearby"], "weight": 1}
        for first, second in zip(names, names[1:])
    ]
    return Reply(content=json.dumps({"entities": entities, "relations": relations}))
