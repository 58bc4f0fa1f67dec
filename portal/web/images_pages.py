"""Patient images in the portal: uploading several at once, viewing one, its bytes and thumbnail, archiving it.

The gallery is one component (id patient-images): an upload answers with it, the new images in place,
or with the form and the service's complaint about the files. The same views serve staff on the patient
page and a patient on "My images"; the images service decides who may see, upload or delete (404 else).
Bytes go out with Cache-Control: private, like the API's, and never from a static path.
"""
from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_login import login_required

from portal.models import Role
from portal.services.errors import Forbidden, Invalid, TooLarge
from portal.services.records import images
from portal.web import patient_pages as pages
from portal.web.forms import ActionForm
from portal.web.record_forms import ImagesForm

bp = Blueprint("images_pages", __name__)

GALLERY_ID = "patient-images"
PAGE_PARAM = "images_page"
PER_PAGE = 20


def _back(patient_id: int, role: str) -> str:
    if role == Role.PATIENT.value:
        return url_for("my_records.my_images")
    return url_for("patients.show", patient_id=patient_id, _anchor="images-title")


def gallery_page(patient_id: int):
    """The page of the patient's images asked for (?images_page=; an upload answers with the first)."""
    return pages.visible(images.list_images, patient_id=patient_id, page=pages.page_number(request.args, PAGE_PARAM),
                         per_page=PER_PAGE)


def gallery(patient_id: int, form: ImagesForm, status: int = 200, uploaded: str | None = None):
    """The gallery for its own htmx requests (paging, uploads), else the patient's "My images" page."""
    listing = gallery_page(patient_id)
    return pages.render("images/mine.html", "images/_gallery.html", GALLERY_ID, status, patient_id=patient_id,
                        gallery=listing, images_form=form, uploaded=uploaded, action_form=ActionForm())


def _upload_problem(error: Invalid | TooLarge, files: list) -> str:
    """The service's complaint, naming the file it is about (it names them files.<n>)."""
    if isinstance(error, TooLarge):
        return error.message
    problems = []
    for field, messages in error.fields.items():
        index = field.removeprefix("files.")
        name = files[int(index)].filename if index.isdigit() and int(index) < len(files) else None
        problems += [f"{name}: {m}" if name else m for m in messages]
    return " ".join(problems) or error.message


@bp.post(f"/patients/<{pages.ID}:patient_id>/images")
@login_required
def upload(patient_id: int):
    """Up to ten files in one go; all are checked by decoding before any is kept."""
    form = ImagesForm()
    files = [images.Upload(f.stream, f.filename) for f in request.files.getlist("files") if f and f.filename]
    problem = None
    if not form.validate_on_submit():
        problem = "This form has expired. Reload the page and try again."
    else:
        try:
            stored = pages.visible(images.upload, patient_id, files)
        except (Invalid, TooLarge) as error:
            problem = _upload_problem(error, files)
    if problem is None:
        message = f"{len(stored)} image{'s' if len(stored) != 1 else ''} uploaded."
        if not pages.fragments.from_widget(GALLERY_ID):
            flash(message, "success")
            return redirect(_back(patient_id, pages.actor().role))
        return gallery(patient_id, ImagesForm(formdata=None), uploaded=message)
    form.files.errors = [problem]
    if not pages.fragments.from_widget(GALLERY_ID):
        flash(problem, "error")
        return redirect(_back(patient_id, pages.actor().role))
    return gallery(patient_id, form, 422)


@bp.get(f"/images/<{pages.ID}:image_id>")
@login_required
def show(image_id: int):
    image = pages.visible(images.get, image_id)
    return render_template("images/show.html", image=image, back=_back(image.patient_id, pages.actor().role),
                           action_form=ActionForm(), patient_data=True)


def _bytes(image_id: int, thumbnail: bool):
    stream, content_type, _key = pages.visible(images.open_file, image_id, thumbnail=thumbnail)
    response = send_file(stream, mimetype=content_type, max_age=0)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get(f"/images/<{pages.ID}:image_id>/file")
@login_required
def file(image_id: int):
    return _bytes(image_id, thumbnail=False)


@bp.get(f"/images/<{pages.ID}:image_id>/thumbnail")
@login_required
def thumbnail(image_id: int):
    return _bytes(image_id, thumbnail=True)


@bp.post(f"/images/<{pages.ID}:image_id>/delete")
@login_required
def delete(image_id: int):
    """Archive the image: it leaves the gallery; the row is kept."""
    image = pages.visible(images.get, image_id)
    try:
        pages.visible(images.archive, image_id)
    except Forbidden as error:
        flash(error.message, "error")
        return redirect(url_for("images_pages.show", image_id=image_id))
    flash("The image is deleted.", "success")
    return redirect(_back(image.patient_id, pages.actor().role))
