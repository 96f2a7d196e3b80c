"""The learning path: every lesson page, its section and what it teaches.

The app's navigation and the home page's map both read this list; a lesson whose page file does
not exist yet is left out, so later lessons slot in by adding their file and one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SECTIONS = ("Foundations", "Build and train", "Evaluate and explain", "Responsible AI",
            "Production", "Labs", "Frontiers", "Applications")


@dataclass(frozen=True)
class Lesson:
    """One page of the app: where it lives and what a learner gets from it."""

    section: str
    title: str
    page: str          # path relative to the project root, e.g. "pages/neuron.py"
    icon: str          # a Material icon name for st.navigation
    teaches: str       # one sentence for the home page's map

    @property
    def path(self) -> Path:
        return ROOT / self.page

    @property
    def exists(self) -> bool:
        return self.path.is_file()


LESSONS: tuple[Lesson, ...] = (
    Lesson("Foundations", "Why neural networks now", "pages/why_now.py", ":material/bolt:",
           "Data, hardware and algorithms: the three causes, each measured on this machine."),
    Lesson("Foundations", "The neuron", "pages/neuron.py", ":material/radio_button_checked:",
           "What one neuron computes: weighted sum, bias, activation, a decision line, and losses."),
    Lesson("Foundations", "Backpropagation", "pages/backprop.py", ":material/account_tree:",
           "Watch the chain rule assign blame, node by node, and check it against PyTorch."),
    Lesson("Foundations", "Gradient descent & optimizers", "pages/optimizers.py", ":material/landscape:",
           "SGD, momentum, Nesterov, RMSprop and Adam racing on real loss surfaces."),
    Lesson("Foundations", "Vanishing & exploding gradients", "pages/gradients.py", ":material/stacked_line_chart:",
           "Why depth, activation and initialisation make gradients die or blow up."),
    Lesson("Build and train", "Playground", "pages/playground.py", ":material/scatter_plot:",
           "TensorFlow Playground on real PyTorch: train live on 2-D data and see every neuron."),
    Lesson("Build and train", "Training lab", "pages/training_lab.py", ":material/science:",
           "Optimizers, schedules, regularisation and early stopping on real datasets."),
    Lesson("Build and train", "Runs", "pages/runs.py", ":material/history:",
           "Every run kept: compare curves, sort by metric, download runs and models."),
    Lesson("Build and train", "CNNs", "pages/cnn.py", ":material/grid_on:",
           "Convolutions step by step, learned filters and feature maps on handwritten digits."),
    Lesson("Build and train", "Recurrent nets", "pages/sequences.py", ":material/timeline:",
           "RNN, LSTM and GRU on forecasting and long-range memory, with their hidden states."),
    Lesson("Build and train", "Transformers", "pages/transformer.py", ":material/hub:",
           "Attention with numbers, then a small encoder trained with its attention maps."),
    Lesson("Build and train", "Choosing an architecture", "pages/architectures.py", ":material/compare:",
           "Which network for which data, with a live side-by-side race."),
    Lesson("Build and train", "Workshop: instructor", "pages/instructor.py", ":material/school:",
           "For a workshop's instructor: the class's runs live, who is active, exercise links."),
    Lesson("Evaluate and explain", "Evaluation", "pages/evaluate.py", ":material/fact_check:",
           "The right metric, honest baselines, thresholds, calibration and the accuracy paradox."),
    Lesson("Evaluate and explain", "Explainability", "pages/explain.py", ":material/visibility:",
           "SHAP, LIME and saliency maps: what the network looked at, with sanity checks."),
    Lesson("Responsible AI", "Bias audit", "pages/bias_audit.py", ":material/balance:",
           "Group metrics, fairness gaps with confidence intervals, and mitigation."),
    Lesson("Responsible AI", "Robustness", "pages/robustness.py", ":material/shield:",
           "Corruptions and adversarial examples, and what adversarial training buys."),
    Lesson("Production", "Compression", "pages/compression.py", ":material/compress:",
           "Quantization and pruning, measured: size, latency and accuracy on a Pareto chart."),
    Lesson("Production", "Export", "pages/export.py", ":material/ios_share:",
           "ONNX and torch.export, verified against PyTorch, with a model card to download."),
    Lesson("Production", "Monitoring", "pages/monitoring.py", ":material/monitor_heart:",
           "A simulated production stream: drift tests, delayed labels, alerts and retraining."),
    Lesson("Labs", "Lab: MNIST experiments", "pages/lab_mnist.py", ":material/draw:",
           "A grid of layers x neurons x activations on handwritten digits; draw your own digit."),
    Lesson("Labs", "Lab: transfer learning", "pages/lab_transfer.py", ":material/photo_library:",
           "A pretrained CNN's features against training from scratch, by labelled images per class."),
    Lesson("Labs", "Lab: sentiment with a transformer", "pages/lab_sentiment.py", ":material/reviews:",
           "Fine-tune a pretrained transformer on reviews against lexicon and TF-IDF baselines."),
    Lesson("Frontiers", "Graph neural networks", "pages/gnn.py", ":material/share:",
           "A GCN on Zachary's karate club against an MLP that ignores the edges."),
    Lesson("Frontiers", "Federated learning", "pages/federated.py", ":material/devices:",
           "FedAvg over simulated clients: IID against non-IID splits, against central training."),
    Lesson("Frontiers", "GANs", "pages/gan.py", ":material/auto_awesome:",
           "A generator and a discriminator on 2-D data, mode collapse measured, then digits."),
    Lesson("Frontiers", "Green AI", "pages/green_ai.py", ":material/eco:",
           "FLOPs, energy and CO2 of every run: accuracy per joule, in perspective."),
    Lesson("Applications", "Applications", "pages/applications.py", ":material/work:",
           "Health images, financial time series and support messages, with honest baselines."),
)


# The suggested first path through the app, in order: page files.
START_HERE = ("pages/neuron.py", "pages/backprop.py", "pages/playground.py",
              "pages/training_lab.py", "pages/evaluate.py", "pages/explain.py",
              "pages/bias_audit.py")


def start_here() -> list[Lesson]:
    """The lessons of the suggested first path that exist, in order."""
    by_page = {lesson.page: lesson for lesson in available_lessons()}
    return [by_page[page] for page in START_HERE if page in by_page]


def available_lessons() -> list[Lesson]:
    """The lessons whose page file exists, in path order."""
    return [lesson for lesson in LESSONS if lesson.exists]
