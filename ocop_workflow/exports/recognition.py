"""Recognition decisions and certificates as documents: the decision's DOCX (filed in every listed
product's dossier when it is signed) and each certificate's PDF with the QR code of its public page.

The builders (`decision_docx`, `certificate_pdf`) take plain values; this module reads the records and
names the bodies as a Vietnamese reader expects them ("Ủy ban nhân dân tỉnh Bắc Giang"). Web, API and CLI
sign through `sign_and_file_decision`, so the decision is never signed without its file in the dossiers.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from ..config import Settings
from ..engine import Registry
from ..models import Certificate, Organisation, Product, RecognitionDecision, User
from ..services.access import Actor
from ..services.certificates import province_of
from ..services.decisions import Signed, sign_decision
from ..services.documents import attach_document
from ..services.uploads import ZipLimits
from .certificate_pdf import CertificateDoc, build_certificate_pdf, certificate_filename
from .decision_docx import DecisionDoc, DecisionEntry, build_decision_docx, decision_filename

DOC_TYPE = "recognition_decision"
MINISTRY = ("Bộ Nông nghiệp và Môi trường", "Ministry of Agriculture and Environment")
# Unit words an organisation's name may start with; a bare name ("Lục Ngạn") gets its level's word.
_UNIT_WORDS = ("Thành phố", "Thị xã", "Tỉnh", "Huyện", "Quận", "Xã", "Phường", "Thị trấn")
_LEVEL_WORDS = {"province": "tỉnh", "district": "huyện", "commune": "xã"}
_LEGAL_BASIS = {
    "148/QĐ-TTg": "Căn cứ Quyết định số 148/QĐ-TTg ngày 24 tháng 02 năm 2023 của Thủ tướng Chính phủ ban hành Bộ "
    "tiêu chí và quy trình đánh giá, phân hạng sản phẩm Chương trình Mỗi xã một sản phẩm",
    "1489/QĐ-TTg": "Căn cứ Quyết định số 1489/QĐ-TTg của Thủ tướng Chính phủ sửa đổi, bổ sung Quyết định số "
    "148/QĐ-TTg về Bộ tiêu chí và quy trình đánh giá, phân hạng sản phẩm Chương trình Mỗi xã một sản phẩm",
}


def verify_url(settings: Settings, code: str) -> str:
    """The public page a certificate's QR code opens: anyone can check the label there."""
    return f"{settings.base_url.rstrip('/')}/xac-minh/{code}"


def _split_unit(name: str) -> tuple[str | None, str]:
    for word in _UNIT_WORDS:
        if name.startswith(word + " "):
            return word, name[len(word) + 1 :]
    return None, name


def place_name(org: Organisation) -> str:
    """An organisation's name without its unit word ("Tỉnh Bắc Giang" -> "Bắc Giang")."""
    return _split_unit(org.name)[1]


def issuing_body(org: Organisation, locale: str = "vi") -> str:
    """Who decides for an organisation: its People's Committee, or the ministry at the central level."""
    if org.level == "central":
        return MINISTRY[1] if locale == "en" else MINISTRY[0]
    word, bare = _split_unit(org.name)
    if locale == "en":
        return f"People's Committee of {org.name}"
    return f"Ủy ban nhân dân {(word or _LEVEL_WORDS.get(org.level, '')).lower()} {bare}".replace("  ", " ")


def _group(registry: Registry, product: Product, locale: str) -> str:
    label = registry.catalogue.product_groups.get(product.product_group)
    return label.get(locale) if label is not None else product.product_group


def decision_document(
    session: Session, registry: Registry, settings: Settings, decision: RecognitionDecision
) -> DecisionDoc:
    """What the DOCX shows of a decision (a draft has no number, date or signer yet)."""
    org = decision.organisation
    bases = ["Căn cứ Luật Tổ chức chính quyền địa phương"] if org.level != "central" else []
    entries = []
    for entry in decision.entries:
        product = entry.product
        basis = registry.get(product.workflow_key, product.workflow_version).legal_basis
        for key, line in _LEGAL_BASIS.items():
            if key in basis and line not in bases:
                bases.append(line)
        entries.append(
            DecisionEntry(
                product_name=product.name,
                producer_name=product.producer.name,
                commune_name=product.commune.name,
                product_group=_group(registry, product, "vi"),
                score=entry.score,
                star=entry.star,
            )
        )
    signer = session.get(User, decision.signer_id) if decision.signer_id else None
    place = place_name(province_of(session, org) or org) if org.level != "central" else "Hà Nội"
    found_round = decision.round
    return DecisionDoc(
        issuing_body=issuing_body(org).upper(),
        place=place,
        number=decision.number,
        signed_on=decision.signed_on,
        title=decision.title,
        legal_basis=bases,
        council_name=found_round.council.name if found_round is not None else None,
        round_name=found_round.name if found_round is not None else None,
        certificate_months=settings.certificate_months,
        signer_name=signer.name if signer is not None else None,
        signer_title=decision.signer_title,
        entries=entries,
    )


def decision_docx(
    session: Session, registry: Registry, settings: Settings, decision: RecognitionDecision, locale: str = "vi"
) -> tuple[str, bytes]:
    doc = decision_document(session, registry, settings, decision)
    return decision_filename(doc), build_decision_docx(doc, locale)


def certificate_document(
    session: Session, registry: Registry, settings: Settings, cert: Certificate, locale: str = "vi"
) -> CertificateDoc:
    product = cert.product
    commune = product.commune
    province = province_of(session, commune)
    decision = cert.decision
    signer = session.get(User, decision.signer_id) if decision is not None and decision.signer_id else None
    return CertificateDoc(
        code=cert.code,
        product_name=cert.product_name,
        product_group=_group(registry, product, locale),
        producer_name=cert.producer_name,
        commune_name=commune.name,
        province_name=province.name if province is not None else "",
        star=cert.star,
        recognising_body=issuing_body(cert.organisation, locale),
        decision_number=decision.number if decision is not None else None,
        decision_date=decision.signed_on if decision is not None else None,
        issued_on=cert.issued_on,
        expires_on=cert.expires_on,
        signer_name=signer.name if signer is not None else "",
        signer_title=(decision.signer_title or "") if decision is not None else "",
        verify_url=verify_url(settings, cert.code),
    )


def certificate_pdf(
    session: Session, registry: Registry, settings: Settings, cert: Certificate, locale: str = "vi"
) -> tuple[str, bytes]:
    doc = certificate_document(session, registry, settings, cert, locale)
    return certificate_filename(doc), build_certificate_pdf(doc, locale)


def sign_and_file_decision(
    session: Session,
    registry: Registry,
    settings: Settings,
    actor: Actor,
    decision_id: object,
    *,
    number: str,
    signed_on: date | None = None,
    signer_title: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Signed:
    """Sign the decision (`services.decisions.sign_decision`) and file its DOCX as `recognition_decision`
    in every listed product's dossier, in the caller's transaction. The file is attached by the system
    actor (the product has reached its decided state, where no person adds documents) and names the
    signer as the one who filed it."""
    signed = sign_decision(
        session,
        registry,
        settings,
        actor,
        decision_id,
        number=number,
        signed_on=signed_on,
        signer_title=signer_title,
        expected_version=expected_version,
        now=now,
    )
    filename, content = decision_docx(session, registry, settings, signed.decision)
    system = Actor.system_actor(registry.policy)
    limits = ZipLimits(settings.max_unzipped_bytes, settings.max_zip_entries)
    for entry in signed.decision.entries:
        doc = attach_document(
            session,
            system,
            entry.product_id,
            DOC_TYPE,
            filename,
            content,
            upload_dir=settings.upload_dir,
            max_bytes=settings.max_upload_bytes,
            known_types=registry.catalogue.document_types,
            zip_limits=limits,
            now=now,
            registry=registry,
        )
        doc.uploaded_by_id = actor.id
    session.flush()
    return signed


__all__ = [
    "certificate_document",
    "certificate_pdf",
    "decision_docx",
    "decision_document",
    "issuing_body",
    "place_name",
    "sign_and_file_decision",
    "verify_url",
]
